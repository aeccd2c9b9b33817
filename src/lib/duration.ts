// Durations as users write them in job code and in wrangler.toml: a number of
// milliseconds, or "<number> <unit>" such as "250 ms", "10 seconds", "7 days".

const UNIT_MS = {
  ms: 1, millisecond: 1, milliseconds: 1,
  s: 1_000, sec: 1_000, second: 1_000, seconds: 1_000,
  m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
} as const satisfies Record<string, number>;

export type DurationUnit = keyof typeof UNIT_MS;

/**
 * A duration in job code, checked by the compiler: milliseconds, or a number and a unit
 * ("250 ms", "10 seconds", "7 days"), so "10 minuets" does not compile. Text from
 * elsewhere (an input, a var) is checked with parseDuration.
 */
export type Duration = number | `${number}` | `${number} ${DurationUnit}` | `${number}${DurationUnit}`;

/** Milliseconds for a duration, or null when it is not one (negative, NaN, unknown unit). */
export function parseDuration(value: number | string): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!match) return null;
  const unit = match[2] ? (UNIT_MS as Record<string, number>)[match[2].toLowerCase()] : 1;
  return unit === undefined ? null : Math.round(Number(match[1]) * unit);
}

/** Like parseDuration, for code paths where a bad duration is a programming error. */
export function toMs(value: number | string): number {
  const ms = parseDuration(value);
  if (ms === null) throw new TypeError(`Not a duration: ${JSON.stringify(value)}`);
  return ms;
}

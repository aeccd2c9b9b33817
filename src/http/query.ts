// Query strings are read one value per name; a name given twice (`since=1&since=2`) is
// refused rather than read as its first value, which the client may not have meant. Each
// value is parsed totally: one that is not a form its parameter takes is a 400 naming the
// parameter, never read as some default.
import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "./errors";

export const singleQueryValues: MiddlewareHandler = async (c, next) => {
  const names = new Set<string>();
  for (const name of new URL(c.req.url).searchParams.keys()) {
    if (names.has(name)) {
      // The name is the client's own text: named only when it is one of ours.
      const known = /^[a-zA-Z]{1,20}$/.test(name) ? ` (${name})` : "";
      throw new ApiError(400, "invalid_query", `Give each query parameter once${known}`);
    }
    names.add(name);
  }
  await next();
};

export function intParam(c: Context, name: string, fallback: number, min: number, max: number, pattern = /^\d{1,16}$/): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return fallback;
  const value = pattern.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ApiError(400, "invalid_query", `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

const ON = new Set(["", "1", "true", "on", "yes"]);
const OFF = new Set(["0", "false", "off", "no"]);

/** A switch: `?name` alone or on/true/1/yes turns it on, off/false/0/no off; absent, `fallback`. */
export function flagParam(c: Context, name: string, fallback: boolean): boolean {
  const raw = c.req.query(name);
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase();
  if (ON.has(value)) return true;
  if (OFF.has(value)) return false;
  throw new ApiError(400, "invalid_query", `${name} must be on or off (or true/false, 1/0, yes/no), or given without a value`);
}

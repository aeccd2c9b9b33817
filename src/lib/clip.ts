// Bounded text: what a message, a log line or a name may grow to.

/** At most `max` characters: a longer text is cut, and ends with "…". */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

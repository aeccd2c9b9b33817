// The cursor of an owner's job list: where the next page starts, after the given job.
// Shared by the API, which hands it out as a list's `next`, and the dashboard, whose
// "Older jobs" link must follow the rows the page shows as they change live. (Standalone:
// the browser's bundle cannot take lib/crypto.ts, which uses Workers-only Web Crypto.)

/** Whether `a` is listed before `b`: newest first, and by id among jobs of the same millisecond, as the index orders them (ids are ASCII: JS and SQLite compare them alike). */
export function listedBefore(a: { createdAt: number; id: string }, b: { createdAt: number; id: string }): boolean {
  return a.createdAt !== b.createdAt ? a.createdAt > b.createdAt : a.id > b.id;
}

/** The job a cursor points after, or null for a text `listCursor` did not make. */
export function cursorPlace(cursor: string): { createdAt: number; id: string } | null {
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const place = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))) as unknown;
    if (!Array.isArray(place) || place.length !== 2) return null;
    const [createdAt, id] = place as unknown[];
    return Number.isSafeInteger(createdAt) && typeof id === "string" ? { createdAt: createdAt as number, id } : null;
  } catch {
    return null; // not base64url, or not JSON
  }
}

export function listCursor(job: { createdAt: number; id: string }): string {
  const bytes = new TextEncoder().encode(JSON.stringify([job.createdAt, job.id]));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

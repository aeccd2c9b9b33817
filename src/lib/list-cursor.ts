// The cursor of an owner's job list: where the next page starts, after the given job.
// Shared by the API, which hands it out as a list's `next`, and the dashboard, whose
// "Older jobs" link must follow the rows the page shows as they change live. (Standalone:
// the browser's bundle cannot take lib/crypto.ts, which uses Workers-only Web Crypto.)

/** Whether `a` is listed before `b`: newest first, and by id among jobs of the same millisecond, as the index orders them (ids are ASCII: JS and SQLite compare them alike). */
export function listedBefore(a: { createdAt: number; id: string }, b: { createdAt: number; id: string }): boolean {
  return a.createdAt !== b.createdAt ? a.createdAt > b.createdAt : a.id > b.id;
}

export function listCursor(job: { createdAt: number; id: string }): string {
  const bytes = new TextEncoder().encode(JSON.stringify([job.createdAt, job.id]));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

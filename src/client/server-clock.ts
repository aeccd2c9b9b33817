// The server's clock, as the page's own clock tells it. What the pages count from (a job's
// creation, a step's wake-up) are the server's times: a browser whose clock is off, set to
// the wrong time zone or never synced, counted a 10-minute nap as "wakes in 3 h 10 min" or
// "0 ms". The page says when the server made it (`data-now`); the network's delay, a
// fraction of a second, is all that is left of the difference.

/** `servedAt`: the server's `Date.now()` as it made the page (no number: the browser's own clock). */
export function serverClock(servedAt: string | undefined): () => number {
  const at = Number(servedAt);
  const offset = servedAt && Number.isFinite(at) ? at - Date.now() : 0;
  return () => Date.now() + offset;
}

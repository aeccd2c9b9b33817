// Server-Sent Events wire format for job frames. EventSource reserves the event name
// "error" for its own connection errors, so the terminal error event is "job-error".
import type { JobEvent } from "../protocol";

/** How long a disconnected EventSource waits before it reconnects. */
export const RETRY_MS = 2_000;

export const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-store, no-transform",
  "X-Accel-Buffering": "no",
  // `wrangler dev` (and some proxies) compress text bodies, which buffers a stream.
  "Content-Encoding": "identity",
} as const;

function sseEventName(event: JobEvent): string {
  return event.type === "error" ? "job-error" : event.type;
}

/** The snapshot carries no `id:`: a client that reconnects right after it still gets the history. */
export function sseSnapshot(snapshot: unknown): string {
  return `retry: ${RETRY_MS}\n${sseMessage("snapshot", JSON.stringify(snapshot))}`;
}

export function sseEvent(event: JobEvent): string {
  return sseMessage(sseEventName(event), JSON.stringify(event), event.seq);
}

/** One message; `data` is JSON (no line breaks), `id` what a reconnect resumes after. */
export function sseMessage(event: string, data: string, id?: number | string): string {
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`;
}

export const SSE_HEARTBEAT = ": heartbeat\n\n";

/** How many are watching: no `id:`, so it never moves a reconnect's Last-Event-ID. */
export function ssePresence(viewers: number): string {
  return sseMessage("presence", JSON.stringify({ viewers }));
}

// Server-Sent Events wire format for job frames. EventSource reserves the event name
// "error" for its own connection errors, so the terminal error event is "job-error".
import type { JobEvent, JobSnapshot } from "../protocol";

/** How long a disconnected EventSource waits before it reconnects. */
export const RETRY_MS = 2_000;

export const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-store, no-transform",
  "X-Accel-Buffering": "no",
  // `wrangler dev` (and some proxies) compress text bodies, which buffers a stream.
  "Content-Encoding": "identity",
} as const;

export function sseEventName(event: JobEvent): string {
  return event.type === "error" ? "job-error" : event.type;
}

/** The snapshot carries no `id:`: a client that reconnects right after it still gets the history. */
export function sseSnapshot(snapshot: JobSnapshot): string {
  return `retry: ${RETRY_MS}\nevent: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`;
}

export function sseEvent(event: JobEvent): string {
  return `id: ${event.seq}\nevent: ${sseEventName(event)}\ndata: ${JSON.stringify(event)}\n\n`;
}

export const SSE_HEARTBEAT = ": heartbeat\n\n";

/** How many are watching: no `id:`, so it never moves a reconnect's Last-Event-ID. */
export function ssePresence(viewers: number): string {
  return `event: presence\ndata: ${JSON.stringify({ viewers })}\n\n`;
}

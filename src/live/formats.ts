import type { StreamFormat } from "./bridge";
import { SSE_HEADERS, SSE_HEARTBEAT, sseEvent, sseSnapshot } from "./sse";
import { TEXT_HEADERS, TextFormatter } from "./text";

export type StreamKind = "sse" | "text";

/** `since` is where the stream resumes, so the text view knows whether history follows. */
export function streamFormat(kind: StreamKind, since: number): StreamFormat {
  if (kind === "sse") return { headers: SSE_HEADERS, snapshot: sseSnapshot, event: sseEvent, heartbeat: SSE_HEARTBEAT };
  const text = new TextFormatter();
  return { headers: TEXT_HEADERS, snapshot: (snapshot) => text.snapshot(snapshot, Date.now(), since), event: (event) => text.event(event) };
}

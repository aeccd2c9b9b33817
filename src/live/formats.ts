import type { StreamFormat } from "./bridge";
import { SSE_HEADERS, SSE_HEARTBEAT } from "./sse";
import { TEXT_HEADERS } from "./text";

export type StreamKind = "sse" | "text";

/** What the Worker adds to the object's frames: the response headers and a heartbeat. */
export function streamFormat(kind: StreamKind): StreamFormat {
  return kind === "sse" ? { headers: SSE_HEADERS, heartbeat: SSE_HEARTBEAT } : { headers: TEXT_HEADERS };
}

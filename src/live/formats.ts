import { HEARTBEAT_MS } from "../lib/fanout";
import type { StreamFormat } from "./bridge";
import { SSE_HEADERS, SSE_HEARTBEAT } from "./sse";
import { TEXT_HEADERS, TEXT_QUIET_MS, textGoneLine, textInterruptedLine, textQuietLine } from "./text";

export type StreamKind = "sse" | "text";

/** What the Worker adds to the object's frames: the response headers and a heartbeat. */
export function streamFormat(kind: StreamKind): StreamFormat {
  return kind === "sse"
    // An EventSource reconnects, and learns there what happened (a 410 for a gone job).
    ? { headers: SSE_HEADERS, heartbeat: { afterMs: HEARTBEAT_MS, text: () => SSE_HEARTBEAT }, interrupted: () => "", gone: () => "" }
    : { headers: TEXT_HEADERS, heartbeat: { afterMs: TEXT_QUIET_MS, text: textQuietLine }, interrupted: textInterruptedLine, gone: textGoneLine };
}

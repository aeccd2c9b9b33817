// A job's frames in each format its subscribers ask for: JSON for WebSocket clients, SSE
// and text for the Worker's bridges and the object's direct streams. The text view keeps
// per-viewer columns.
import type { Frames } from "../lib/fanout";
import { streamFormat } from "../live/formats";
import { sseEvent, ssePresence, sseSnapshot } from "../live/sse";
import { TextFormatter } from "../live/text";
import type { JobEvent, JobSnapshot, ServerFrame } from "../protocol";

/** `columnsAt(seq)`: a text formatter with the columns a replay from the start has after `seq`. */
export function jobFrames(columnsAt: (seq: number) => TextFormatter): Frames<JobSnapshot, JobEvent, TextFormatter | null> {
  // Woken, every text viewer asks for the same seq at once: the log is read back once.
  let found: { seq: number; text: TextFormatter } | null = null;
  const columnsOnce = (seq: number): TextFormatter => {
    if (found?.seq !== seq) {
      found = { seq, text: columnsAt(seq) };
      queueMicrotask(() => (found = null));
    }
    return found.text;
  };
  return {
    state: (format) => (format === "text" ? new TextFormatter() : null),
    resumeState: (format, seq) => (format === "text" ? columnsOnce(seq).copy() : null),
    snapshot: (format, snapshot, since, text) => {
      if (format === "json") return JSON.stringify({ type: "snapshot", snapshot } satisfies ServerFrame);
      return format === "sse" ? sseSnapshot(snapshot) : text!.snapshot(snapshot, Date.now(), since);
    },
    entry: (format, event, text) => {
      if (format === "json") return JSON.stringify({ type: "event", event } satisfies ServerFrame);
      return format === "sse" ? sseEvent(event) : text!.event(event);
    },
    // Text viewers with the same columns see the same lines (most are caught up together).
    shareKey: (format, text) => (format === "text" ? `text:${text!.columns}` : format),
    copyState: (text) => text?.copy() ?? null,
    presence: (format, viewers) => {
      if (format === "json") return JSON.stringify({ type: "presence", viewers } satisfies ServerFrame);
      return format === "sse" ? ssePresence(viewers) : null;
    },
    heartbeat: (format) => (format === "json" ? null : streamFormat(format).heartbeat),
    // `curl -N` does not reconnect: a handed-off text stream is continued by the Worker.
    continued: (format) => format === "text",
  };
}

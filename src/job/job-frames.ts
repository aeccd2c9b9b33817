// A job's frames in each format its subscribers ask for: JSON for WebSocket clients, SSE
// and text for the Worker's bridges and the object's direct streams. The text view keeps
// per-viewer columns.
import type { Frames } from "../lib/fanout";
import { streamFormat } from "../live/formats";
import { sseEvent, ssePresence, sseSnapshot } from "../live/sse";
import { TextFormatter } from "../live/text";
import type { JobEvent, JobSnapshot, ServerFrame } from "../protocol";

export function jobFrames(current: () => JobSnapshot | null): Frames<JobSnapshot, JobEvent, TextFormatter | null> {
  return {
    state: (format) => (format === "text" ? new TextFormatter() : null),
    resumeState: (format) => {
      if (format !== "text") return null;
      const text = new TextFormatter();
      const snapshot = current();
      if (snapshot) text.snapshot(snapshot, Date.now(), snapshot.lastSeq);
      return text;
    },
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

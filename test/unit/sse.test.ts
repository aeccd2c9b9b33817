import { expect, it } from "vitest";
import { sseEvent, sseSnapshot } from "../../src/live/sse";
import type { JobEvent, JobSnapshot } from "../../src/protocol";

it("writes events with id = seq, the type as event name, and the whole event as data", () => {
  const event: JobEvent = { seq: 7, at: 1000, type: "log", data: { level: "info", message: "line\nbreak" } };
  expect(sseEvent(event)).toBe('id: 7\nevent: log\ndata: {"seq":7,"at":1000,"type":"log","data":{"level":"info","message":"line\\nbreak"}}\n\n');
});

it('names the terminal error "job-error", since EventSource keeps "error" for itself', () => {
  const event: JobEvent = { seq: 9, at: 5, type: "error", data: { code: "timeout", message: "late" } };
  expect(sseEvent(event)).toMatch(/^id: 9\nevent: job-error\ndata: /);
});

it("starts with retry and a snapshot that has no id, so a reconnect still gets the history", () => {
  const snapshot = { id: "j", lastSeq: 3 } as JobSnapshot;
  expect(sseSnapshot(snapshot)).toBe('retry: 2000\nevent: snapshot\ndata: {"id":"j","lastSeq":3}\n\n');
});

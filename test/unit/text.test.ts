import { expect, it } from "vitest";
import { percentOf } from "../../src/lib/job-state";
import { terminalSafe, TextFormatter } from "../../src/live/text";
import type { JobEvent, JobSnapshot } from "../../src/protocol";

const AT = Date.UTC(2026, 0, 1, 12, 30, 45, 123);

it("prints time, percent, step and message, carrying percent and step forward", () => {
  const text = new TextFormatter();
  const snapshot = { id: "abc", type: "demo", state: "running", progress: null, steps: { current: null, recent: [] }, lastSeq: 0 } as unknown as JobSnapshot;
  const events: JobEvent[] = [
    { seq: 1, at: AT, type: "step", data: { name: "load", status: "started", attempt: 1 } },
    { seq: 2, at: AT, type: "progress", data: { current: 1, total: 4, message: "a quarter" } },
    { seq: 3, at: AT, type: "step", data: { name: "load", status: "retrying", attempt: 1, until: AT + 2000, error: "boom" } },
    { seq: 4, at: AT, type: "step", data: { name: "nap", status: "sleeping", attempt: 0, until: AT + 120_000 } },
    { seq: 5, at: AT, type: "log", data: { level: "warn", message: "careful" } },
    { seq: 6, at: AT, type: "result", data: { result: { ok: true } } },
  ];
  expect([text.snapshot(snapshot, AT, 0), ...events.map((e) => text.event(e))].join("")).toBe(
    [
      "12:30:45.123    -  -  job abc (demo) is running",
      "12:30:45.123    -  load  step started (attempt 1)",
      "12:30:45.123  25%  load  1/4 a quarter",
      "12:30:45.123  25%  load  step failed (attempt 1): boom; retrying in 2.0s",
      "12:30:45.123  25%  nap  step sleeping for 2min",
      "12:30:45.123  25%  nap  warn: careful",
      '12:30:45.123 100%  nap  succeeded: {"ok":true}',
      "",
    ].join("\n"),
  );
});

it("says a long wait in hours or days, with the moment it ends (the lines' clock has no date)", () => {
  const text = new TextFormatter();
  const nap = (ms: number) => text.event({ seq: 1, at: AT, type: "step", data: { name: "nap", status: "sleeping", attempt: 0, until: AT + ms } });
  expect(nap(25 * 60_000)).toContain("step sleeping for 25min\n");
  expect(nap(200 * 60_000)).toContain("step sleeping for 3h 20min (until 2026-01-01 15:50 UTC)\n");
  expect(nap(3 * 86_400_000)).toContain("step sleeping for 3d (until 2026-01-04 12:30 UTC)\n");
  expect(nap(3 * 86_400_000 + 4 * 3_600_000)).toContain("step sleeping for 3d 4h (until 2026-01-04 16:30 UTC)\n");
});

it("ends a failed or canceled job with its outcome and error", () => {
  const text = new TextFormatter();
  expect(text.event({ seq: 1, at: AT, type: "error", data: { code: "timeout", message: "late" } })).toContain("failed (timeout): late");
  expect(text.event({ seq: 2, at: AT, type: "error", data: { code: "canceled", message: "The job was canceled" } })).toContain("canceled: The job was canceled");
});

it("says a webhook attempt's HTTP status once, and an error that is not a status beside it", () => {
  const text = new TextFormatter();
  const webhook = (data: Extract<JobEvent, { type: "webhook" }>["data"]) => text.event({ seq: 1, at: AT, type: "webhook", data });
  expect(webhook({ attempt: 1, outcome: "retrying", error: "HTTP 500", httpStatus: 500, until: AT + 1000 })).toContain("webhook retrying (attempt 1: HTTP 500); next in 1.0s\n");
  expect(webhook({ attempt: 2, outcome: "delivered", httpStatus: 200 })).toContain("webhook delivered (attempt 2: HTTP 200)\n");
  expect(webhook({ attempt: 6, outcome: "failed", error: "could not connect" })).toContain("webhook failed (attempt 6: could not connect)\n");
});

it("says an ended job's state as a sentence in its first line", () => {
  const first = (state: string) => new TextFormatter().snapshot({ id: "abc", type: "demo", state, progress: null, steps: { current: null, recent: [] }, lastSeq: 0 } as unknown as JobSnapshot, AT, 0);
  expect(first("succeeded")).toContain("job abc (demo) has succeeded\n");
  expect(first("failed")).toContain("job abc (demo) has failed\n");
  expect(first("canceled")).toContain("job abc (demo) was canceled\n");
  expect(first("waiting")).toContain("job abc (demo) is waiting\n");
});

it("reads percent from ratio or current/total, clamped", () => {
  expect(percentOf({ ratio: 0.5 })).toBe(50);
  expect(percentOf({ current: 2, total: 3 })).toBe(66);
  expect(percentOf({ ratio: 7 })).toBe(100);
  expect(percentOf({ message: "no numbers" })).toBeNull();
  expect(percentOf(null)).toBeNull();
});

it("shows the snapshot's percent and step, then the columns of the history it replays", () => {
  const snapshot = {
    id: "abc", type: "demo", state: "running", progress: { ratio: 0.9 }, steps: { current: null, recent: [{ name: "late" }] }, lastSeq: 5,
  } as unknown as JobSnapshot;
  const replaying = new TextFormatter();
  expect(replaying.snapshot(snapshot, AT, 0)).toBe("12:30:45.123  90%  late  job abc (demo) is running\n");
  expect(replaying.event({ seq: 1, at: AT, type: "state", data: { state: "queued" } })).toBe("12:30:45.123    -  -  state: queued\n");
  const live = new TextFormatter();
  live.snapshot(snapshot, AT, 5);
  expect(live.event({ seq: 6, at: AT, type: "log", data: { level: "info", message: "x" } })).toBe("12:30:45.123  90%  late  info: x\n");
});

it("escapes control characters in job output, so a terminal shows them instead of acting on them", () => {
  const text = new TextFormatter();
  const message = "a\u001b[2J\u001b[H\u001b]0;PWNED\u0007b\nfake line\r\tc\u007f\u0085\u009bd";
  expect(text.event({ seq: 1, at: AT, type: "log", data: { level: "info", message } })).toBe(
    "12:30:45.123    -  -  info: a\\x1b[2J\\x1b[H\\x1b]0;PWNED\\x07b\\nfake line\\r\\tc\\x7f\\u0085\\u009bd\n",
  );
  expect(terminalSafe("plain text, é and ✓ stay")).toBe("plain text, é and ✓ stay");
  // Text that would read otherwise than it is: reordered, hidden or broken.
  expect(terminalSafe("ok\u202egnp.exe\u200b\u2028x\ufeff\u2066y\u061cz")).toBe("ok\\u202egnp.exe\\u200b\\u2028x\\ufeff\\u2066y\\u061cz");
  // A lone surrogate is shown as its code (UTF-8 would make it U+FFFD); a pair is a character.
  expect(terminalSafe("f\ud800g \udc00 \ud83d\ude00")).toBe("f\\ud800g \\udc00 \ud83d\ude00");
});

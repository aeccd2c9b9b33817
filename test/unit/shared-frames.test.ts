// A broadcast makes each frame once for the subscribers that see it alike: every SSE
// viewer, and the text viewers whose columns (percent, step) are the same. A text viewer
// with other columns gets lines of its own, and each goes on in its own state.
import { expect, it } from "vitest";
import { jobFrames } from "../../src/job/job-frames";
import { Fanout, type Source } from "../../src/lib/fanout";
import { TextFormatter } from "../../src/live/text";
import type { JobEvent, JobSnapshot } from "../../src/protocol";

const ctx = { setWebSocketAutoResponse() {}, getWebSockets: () => [], acceptWebSocket() {} } as unknown as DurableObjectState;
const AT = Date.UTC(2026, 0, 1, 12);

it("formats a line once per set of columns, and each viewer goes on with its own", async () => {
  const log: JobEvent[] = [
    { seq: 1, at: AT, type: "progress", data: { current: 1, total: 4 } },
    { seq: 2, at: AT, type: "log", data: { level: "info", message: "one" } },
  ];
  const source: Source<JobSnapshot, JobEvent> = {
    lastSeq: () => log.length,
    entriesAfter: (since, limit) => log.slice(since, since + limit),
    ended: () => false,
    isLast: () => false,
  };
  const frames = jobFrames(() => new TextFormatter());
  let made = 0;
  const counted = { ...frames, entry: (...args: Parameters<typeof frames.entry>) => (made++, frames.entry(...args)) };
  const fanout = new Fanout<JobSnapshot, JobEvent, TextFormatter | null>(ctx, source, counted);
  const snapshot = { id: "j", type: "t", state: "running", progress: null, steps: { current: null, recent: [] }, lastSeq: 2 } as unknown as JobSnapshot;
  // Two from the start (they saw the progress: 25%), one from after it (no percent yet).
  const readers = [0, 0, 1].map((since) => fanout.subscribeStream(snapshot, since, "text", "ip:t").body!.pipeThrough(new TextDecoderStream()).getReader());
  made = 0;
  log.push({ seq: 3, at: AT, type: "log", data: { level: "info", message: "two" } }, { seq: 4, at: AT, type: "progress", data: { current: 2, total: 4 } });
  fanout.broadcast(log.slice(2));
  expect(made).toBe(4); // two entries, for two sets of columns
  log.push({ seq: 5, at: AT, type: "log", data: { level: "info", message: "three" } });
  made = 0;
  fanout.broadcast(log.slice(4));
  expect(made).toBe(1); // the progress made their columns alike
  fanout.closeAll(1000, "done");
  const texts = await Promise.all(readers.map(async (reader) => {
    let text = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
    return text.trimEnd().split("\n").slice(-3);
  }));
  expect(texts[0]).toEqual(texts[1]);
  expect(texts[0]).toEqual(["12:00:00.000  25%  -  info: two", "12:00:00.000  50%  -  2/4", "12:00:00.000  50%  -  info: three"]);
  expect(texts[2]).toEqual(["12:00:00.000    -  -  info: two", "12:00:00.000  50%  -  2/4", "12:00:00.000  50%  -  info: three"]);
});

it("finds a viewer's columns from the log, newest first, as a replay from the start has them", () => {
  const at = (events: JobEvent[]) => TextFormatter.after([...events].reverse()).columns;
  const step = (seq: number, name: string): JobEvent => ({ seq, at: AT, type: "step", data: { name, status: "started", attempt: 1 } } as JobEvent);
  const progress = (seq: number, data: object): JobEvent => ({ seq, at: AT, type: "progress", data } as JobEvent);
  expect(at([])).toBe(new TextFormatter().columns);
  // A progress without a ratio keeps the percent before it.
  expect(at([step(1, "a"), progress(2, { current: 1, total: 4 }), step(3, "b"), progress(4, { message: "x" })])).toBe(at([step(3, "b"), progress(2, { current: 1, total: 4 })]));
  expect(TextFormatter.after([step(2, "b"), progress(1, { ratio: 0.5 })]).event({ seq: 3, at: AT, type: "log", data: { level: "info", message: "m" } })).toBe("12:00:00.000  50%  b  info: m\n");
});

// Direct streams (an SSE viewer the object serves itself): bounded by the stream's
// high-water mark however slowly the viewer reads, every entry once and in order as it
// reads, a heartbeat when quiet, and a hand-off that ends the stream after what it holds.
import { afterEach, expect, it, vi } from "vitest";
import { HAND_OFF_HEADER, held, hold, lastRead } from "../../src/lib/direct-stream";
import { CREDIT, Fanout, HEARTBEAT_MS, type Format, type Frames, type Source } from "../../src/lib/fanout";

interface Entry {
  seq: number;
  text: string;
}

/** The object's side that direct streams use, and a continuation's WebSocket (not hibernatable here). */
const ctx = { setWebSocketAutoResponse() {}, getWebSockets: () => [], acceptWebSocket: (socket: WebSocket) => socket.accept() } as unknown as DurableObjectState;

function setup(count: number, size: number, format: Format = "sse") {
  const entries: Entry[] = [];
  let ended = false;
  const add = (n: number, last = false): Entry[] => {
    const added = Array.from({ length: n }, (_, i) => ({ seq: entries.length + i + 1, text: `${entries.length + i + 1} `.padEnd(size, "x") }));
    entries.push(...added);
    ended = last;
    return added;
  };
  add(count);
  const source: Source<{ viewers?: number }, Entry> = {
    lastSeq: () => entries.length,
    entriesAfter: (since, limit) => entries.slice(since, since + limit),
    ended: () => ended,
    isLast: (entry) => ended && entry.seq === entries.length,
  };
  const made = { frames: 0, resumedAt: [] as number[] };
  const frames: Frames<{ viewers?: number }, Entry, null> = {
    state: () => null,
    resumeState: (_format, seq) => {
      made.resumedAt.push(seq);
      return null;
    },
    snapshot: () => "snapshot\n",
    entry: (_format, entry) => {
      made.frames++;
      return `${entry.text}\n`;
    },
    shareKey: (f) => f,
    copyState: () => null,
    presence: () => null,
    heartbeat: () => ({ afterMs: HEARTBEAT_MS, text: () => ": heartbeat\n\n" }),
    continued: (f) => f === "text",
  };
  const fanout = new Fanout(ctx, source, frames);
  const body = () => fanout.subscribeStream({}, 0, format, "ip:test").body!;
  const open = () => body().pipeThrough(new TextDecoderStream()).getReader();
  return { fanout, add, made, open, body };
}

afterEach(() => void vi.useRealTimers());

it("makes no more than CREDIT bytes of frames for a viewer that does not read, then all of them, in order, as it reads", async () => {
  const size = 8 * 1024;
  const { fanout, add, made, open } = setup(200, size);
  const reader = open();
  expect(made.frames * size).toBeLessThanOrEqual(CREDIT + size);
  // Live entries go to a paused viewer from storage later, not into its stream now.
  fanout.broadcast(add(10));
  const held = made.frames;
  expect(held * size).toBeLessThanOrEqual(CREDIT + size);
  let text = "";
  while (text.split("\n").length - 2 < 210) text += (await reader.read()).value;
  fanout.broadcast(add(1, true));
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
  const lines = text.trimEnd().split("\n");
  expect(lines[0]).toBe("snapshot");
  expect(lines.slice(1).map((line) => Number(line.split(" ")[0]))).toEqual(Array.from({ length: 211 }, (_, i) => i + 1));
  expect(fanout.count).toBe(0);
});

it("hands off: the stream ends after the frames it holds, and the viewer is gone", async () => {
  const { fanout, open } = setup(5, 10);
  const reader = open();
  expect(fanout.count).toBe(1);
  fanout.handOff();
  expect(fanout.count).toBe(0);
  let text = "";
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
  expect(text.trimEnd().split("\n")).toHaveLength(6);
});

it("writes a heartbeat to a direct stream quiet for HEARTBEAT_MS, not to one that wrote since", async () => {
  vi.useFakeTimers();
  const { fanout, add, open } = setup(0, 10);
  const reader = open();
  expect((await reader.read()).value).toBe("snapshot\n");
  await vi.advanceTimersByTimeAsync(HEARTBEAT_MS * (2 / 3));
  fanout.broadcast(add(1));
  expect((await reader.read()).value).toBe(`${"1 ".padEnd(10, "x")}\n`);
  let next: string | undefined;
  void reader.read().then((chunk) => (next = chunk.value));
  await vi.advanceTimersByTimeAsync(HEARTBEAT_MS * (2 / 3));
  expect(next).toBeUndefined(); // 20 s since the snapshot, 10 s since the entry
  await vi.advanceTimersByTimeAsync(HEARTBEAT_MS * (2 / 3));
  expect(next).toBe(": heartbeat\n\n");
  fanout.closeAll(1000, "done");
});

it("cuts an ended stream whose viewer does not read what it holds within HEARTBEAT_MS", async () => {
  vi.useFakeTimers();
  const { fanout, body } = setup(200, 8 * 1024);
  const reader = body().getReader();
  fanout.handOff();
  await vi.advanceTimersByTimeAsync(HEARTBEAT_MS * (4 / 3));
  await expect(reader.read()).rejects.toThrow("did not read the end");
});

it("cuts a continued stream whose viewer stopped reading, and its continuation starts after the last frame the viewer read", async () => {
  vi.useFakeTimers();
  const size = 8 * 1024;
  const { fanout, add, made } = setup(200, size, "text");
  const response = fanout.subscribeStream({}, 0, "text", "ip:test");
  const id = response.headers.get(HAND_OFF_HEADER)!;
  expect(id).toMatch(/^[\w-]{16}$/);
  // Read chunk by chunk (a pipe would read ahead of its reader): the snapshot and four entries.
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let read = "";
  for (let chunk = 0; chunk < 5; chunk++) read += decoder.decode((await reader.read()).value);
  const lastSeen = Number(read.trimEnd().split("\n").at(-1)!.split(" ")[0]);
  fanout.handOff();
  // Its viewer keeps its slot until the Worker continues it: nobody takes it meanwhile.
  expect(fanout.count).toBe(0);
  expect(fanout.admit("ip:other", { total: 1, perClient: 5 })).toBe("too_many");
  expect(fanout.admit("ip:test", { total: 5, perClient: 1 })).toBe("too_many_from_client");
  await vi.advanceTimersByTimeAsync(HEARTBEAT_MS * (4 / 3));
  await expect(reader.read()).rejects.toThrow("did not read the end");
  const next = fanout.continueHandOff(id);
  expect(next.status).toBe(101);
  const frames: string[] = [];
  next.webSocket!.addEventListener("message", (message) => frames.push(message.data as string));
  next.webSocket!.accept();
  await vi.waitFor(() => expect(frames.length).toBeGreaterThan(0));
  // No snapshot, then the entry after the last one read: nothing lost to the cut, nothing
  // twice (the rest comes in batches: the last seq, then each frame's text).
  const text = frames[0]!.slice(frames[0]!.indexOf("\n") + 1);
  expect(text.startsWith(`${lastSeen + 1} `)).toBe(true);
  // Its columns as of that entry too, not as of the last one written.
  expect(made.resumedAt).toEqual([lastSeen]);
  expect(fanout.count).toBe(1);
  // Asked for once: a second ask finds nothing to continue, while the log goes on (410), or once it is complete (204).
  expect(fanout.continueHandOff(id).status).toBe(410);
  expect(fanout.admit("ip:test", { total: 2, perClient: 2 })).toBeNull();
  add(1, true);
  expect(fanout.continueHandOff(id).status).toBe(204);
  fanout.closeAll(1000, "done");
});

it("tells the last frame a viewer read from what a stream still holds, and keeps no more than that", () => {
  const frames = held(2);
  hold(frames, 0, 3, 10); // the snapshot, after seq 3
  hold(frames, 10, 4, 20);
  hold(frames, 30, 5, 30);
  expect(lastRead(frames, 0)).toBe(5);
  expect(lastRead(frames, 30)).toBe(4);
  expect(lastRead(frames, 50)).toBe(3);
  expect(lastRead(frames, 60)).toBe(2);
  hold(frames, 0, 6, 40); // the stream was empty: everything before was read
  expect(lastRead(frames, 40)).toBe(5);
  // A long replay whose stream never empties: what is kept stays the size of the backlog.
  for (let seq = 7; seq < 100_000; seq++) hold(frames, 100, seq, 10);
  expect(frames.frames.length - frames.start).toBeLessThanOrEqual(2 * 11);
  expect(frames.frames.length).toBeLessThan(4096);
  expect(lastRead(frames, 30)).toBe(99_996);
});

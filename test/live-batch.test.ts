// `?batch` on `/jobs/:id/ws`, `/live/ws` and `/feed/ws`: the frames one call sends go as
// one message, a frame a line, so a client pays its per-message cost once per batch rather
// than once per event (a browser took 15 s for a 99,000-event history as single frames, 2 s batched).
import { env, evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import { sign } from "hono/jwt";
import { expect, it, vi } from "vitest";
import { ACK_EVERY, CREDIT } from "../src/lib/fanout";
import { parseFrame } from "../src/live/bridge";
import { listingOf } from "../src/owners/listing";
import type { OwnerIndex } from "../src/owners/owner-index";
import type { FeedEntry, JobList } from "../src/protocol";
import { allEvents, auth, BASE, createJob, postJson, runNextAlarm, runToEnd, stubOf, UPGRADE, useVirtualClock } from "./helpers";
import { openMux, openSocket, parseSse, sseEvents, type MuxClient } from "./live-helpers";
import { TEST_SECRETS } from "./secrets";

useVirtualClock();

it("sends a history in a message a mark, a frame a line, and the live tail in batches, across hibernation; without ?batch a frame a message", async () => {
  // 10,000 log lines in the first slice, then a sleep, then 100 more in one step.
  const id = await createJob("test-logger", { lines: 10_100, perStep: 10_000, pauseMs: 1_000 });
  await runNextAlarm(id);
  const batched = await openSocket(id, "?batch");
  const single = await openSocket(id, "", "203.0.113.9");
  await vi.waitFor(() => expect(Math.min(batched.events().length, single.events().length)).toBeGreaterThan(10_000), { timeout: 15_000 });

  expect(single.messages).toHaveLength(single.frames.length);
  const replayed = batched.frames.length;
  expect(batched.messages.length).toBeLessThan(replayed / 50);
  for (const message of batched.messages) {
    const lines = message.split("\n");
    // A mark ends its batch (the client answers it while the next comes), and a batch stays near ACK_EVERY.
    expect(lines.slice(0, -1).some((line) => line.startsWith('{"type":"mark"'))).toBe(false);
    expect(new TextEncoder().encode(message).byteLength).toBeLessThan(ACK_EVERY + 1_000);
  }

  // The object sleeps through the pause; its subscribers stay connected and keep their batches.
  await evictDurableObject(stubOf(id));
  const before = batched.messages.length;
  await runToEnd(id);
  expect((await batched.closed).code).toBe(1000);
  expect((await single.closed).code).toBe(1000);
  const tail = batched.frames.length - replayed;
  expect(tail).toBeGreaterThan(100);
  expect(batched.messages.length - before).toBeLessThan(tail / 5);

  const all = await allEvents(id);
  expect(batched.events()).toEqual(all);
  expect(single.events()).toEqual(all);
});

it("takes ?batch as a switch on every WebSocket route: anything else is a 400", async () => {
  const id = await createJob("test-logger", { lines: 1 });
  const token = await ownerToken();
  for (const path of [`/jobs/${id}/ws?batch=sometimes`, "/live/ws?batch=sometimes", "/feed/ws?batch=sometimes", "/live/ws?batch&batch=1"]) {
    const response = await SELF.fetch(BASE + path, { headers: { ...UPGRADE, ...auth(token) } });
    expect(response.status, path).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code, path).toBe("invalid_query");
  }
});

/** A mux client's messages as frames to compare: mark tokens (random) and viewer counts (timing) aside, presence left out. */
function comparable(client: MuxClient): string[] {
  return client.messages.flatMap((message) => message.split("\n"))
    .filter((line) => !line.includes('"type":"presence"'))
    .map((line) => line.replace(/"token":"[^"]*"/, '"token":"-"').replace(/"viewers":\d+/, '"viewers":-'));
}

it("replays a long history over /live/ws?batch in a message a mark, each line the frame /live/ws sends alone, in the same order, marks answered", async () => {
  const id = await createJob("test-logger", { lines: 10_000, perStep: 10_000 });
  await runToEnd(id);
  const read = async (path: string) => {
    const mux = await openMux(path);
    mux.send({ type: "subscribe", source: id, since: 0 });
    await vi.waitFor(() => expect(mux.ended(id)).toBe(true), { timeout: 15_000 });
    mux.socket.close(1000, "done");
    return mux;
  };
  const batched = await read("/live/ws?batch");
  const single = await read("/live/ws");
  // Unbatched as before: a frame a message.
  expect(single.messages).toHaveLength(single.frames.length);
  expect(comparable(batched)).toEqual(comparable(single));
  expect(batched.events(id)).toEqual(await allEvents(id));
  // Past the credit: it flowed because its marks were answered, each ending its message.
  expect(batched.messages.join("").length).toBeGreaterThan(CREDIT);
  expect(batched.frames.filter((f) => f.type === "mark").length).toBeGreaterThan(3);
  expect(batched.messages.length).toBeLessThan(batched.frames.length / 50);
  for (const message of batched.messages) expect(message.split("\n").slice(0, -1).some((line) => line.includes('"type":"mark"'))).toBe(false);
});

it("keeps /live/ws?batch batched across hibernation: the live tail after the object slept comes in batches, every event once", async () => {
  // 10,000 log lines in the first slice, then a sleep, then 100 more in one step.
  const id = await createJob("test-logger", { lines: 10_100, perStep: 10_000, pauseMs: 1_000 });
  await runNextAlarm(id);
  const batched = await openMux("/live/ws?batch");
  const single = await openMux("/live/ws");
  for (const mux of [batched, single]) mux.send({ type: "subscribe", source: id, since: 0 });
  await vi.waitFor(() => expect(Math.min(batched.events(id).length, single.events(id).length)).toBeGreaterThan(10_000), { timeout: 15_000 });
  const replayed = { frames: batched.frames.length, messages: batched.messages.length };
  expect(replayed.messages).toBeLessThan(replayed.frames / 50);
  await evictDurableObject(stubOf(id));
  await runToEnd(id);
  await vi.waitFor(() => expect(batched.ended(id) && single.ended(id)).toBe(true));
  const tail = batched.frames.length - replayed.frames;
  expect(tail).toBeGreaterThan(100);
  expect(batched.messages.length - replayed.messages).toBeLessThan(tail / 5);
  expect(single.messages).toHaveLength(single.frames.length);
  const all = await allEvents(id);
  expect(batched.events(id)).toEqual(all);
  expect(single.events(id)).toEqual(all);
  for (const mux of [batched, single]) mux.socket.close(1000, "done");
});

const ownerToken = async () => sign({ sub: `batch-${crypto.randomUUID().slice(0, 8)}`, exp: Math.floor(Date.now() / 1000) + 3600 }, TEST_SECRETS.JWT_SECRET, "HS256");

it("sends a page of the owner feed over /feed/ws?batch as one message, each line the frame /feed/ws sends alone", async () => {
  const token = await ownerToken();
  const jobs = 20;
  for (let i = 0; i < jobs; i++) expect((await postJson("/jobs", { type: "demo", input: { intervalMs: 0 } }, {}, token)).status).toBe(201);
  await vi.waitFor(async () => {
    const list = await (await SELF.fetch(`${BASE}/jobs?limit=1`, { headers: auth(token) })).json<JobList>();
    expect(Object.values(list.counts).reduce((a, b) => a + b, 0)).toBe(jobs);
  });
  const read = async (path: string) => {
    const mux = await openMux(path, auth(token));
    await vi.waitFor(() => expect(mux.events("feed-0")).toHaveLength(jobs));
    mux.socket.close(1000, "done");
    return mux;
  };
  const batched = await read("/feed/ws?batch");
  const single = await read("/feed/ws");
  expect(single.messages).toHaveLength(single.frames.length);
  // The snapshot and the page of entries after it.
  expect(batched.messages).toHaveLength(1);
  expect(comparable(batched)).toEqual(comparable(single));
});

it("sends the owner feed's live changes a window at a time when they come fast: the first at once, the rest of its BATCH_WINDOW in one message, every one in order", async () => {
  const token = await ownerToken();
  const owner = JSON.parse(atob(token.split(".")[1]!)).sub as string;
  const mux = await openMux("/feed/ws?batch", auth(token));
  await vi.waitFor(() => expect(mux.frames[0]).toMatchObject({ type: "snapshot", source: "feed-0" }));
  // Six jobs admitted at once, as a burst of creates or reports reaches the index.
  const ids = Array.from({ length: 6 }, (_, i) => `burst-${i}-${crypto.randomUUID()}`);
  await runInDurableObject(env.INDEX.get(env.INDEX.idFromName(`${owner}\u00000`)), (index: OwnerIndex) => {
    for (const id of ids) {
      const listing = listingOf({ id, type: "demo", tags: [], state: "queued", progress: null, error: null, createdAt: Date.now(), startedAt: null, finishedAt: null });
      expect(index.admit(listing, 100)).toBe("admitted");
    }
  });
  await vi.waitFor(() => expect(mux.events("feed-0")).toHaveLength(ids.length));
  const entries = mux.events("feed-0") as unknown as FeedEntry[];
  expect(entries.map((e) => e.type === "job" && e.data.id)).toEqual(ids);
  expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => entries[0]!.seq + i));
  expect(mux.messages.filter((message) => message.includes('"type":"event"'))).toHaveLength(2);
  mux.socket.close(1000, "done");
});

/** A new job's listing, as a create admits it. */
const queued = (id: string) => listingOf({ id, type: "demo", tags: [], state: "queued", progress: null, error: null, createdAt: Date.now(), startedAt: null, finishedAt: null });

/** The index's feed windows armed while `body` runs in it (a timer of BATCH_WINDOW, 100 ms here). */
async function windowsArmed(index: DurableObjectStub<OwnerIndex>, body: (index: OwnerIndex) => void): Promise<number> {
  return runInDurableObject(index, (object: OwnerIndex) => {
    const spy = vi.spyOn(globalThis, "setTimeout");
    try {
      body(object);
      return spy.mock.calls.filter(([, ms]) => ms === 100).length;
    } finally {
      spy.mockRestore();
    }
  });
}

it("arms no feed window for a change nobody follows, nor for a followed feed's lone change: each would fire a BATCH_WINDOW later for nothing", async () => {
  const token = await ownerToken();
  const owner = JSON.parse(atob(token.split(".")[1]!)).sub as string;
  const index = env.INDEX.get(env.INDEX.idFromName(`${owner}\u00000`)) as DurableObjectStub<OwnerIndex>;
  // Nobody follows this owner's feed: three changes at once, as a burst of creates.
  expect(await windowsArmed(index, (object) => {
    for (let i = 0; i < 3; i++) expect(object.admit(queued(`quiet-${i}-${crypto.randomUUID()}`), 100)).toBe("admitted");
  })).toBe(0);
  const mux = await openMux("/feed/ws?batch", auth(token));
  await vi.waitFor(() => expect(mux.frames[0]).toMatchObject({ type: "snapshot", source: "feed-0" }));
  await vi.waitFor(() => expect(mux.events("feed-0")).toHaveLength(3)); // the three, from storage
  await new Promise((resolve) => setTimeout(resolve, 150)); // past any window
  // A lone change goes at once, and nothing waits for a window after it.
  const lone = `lone-${crypto.randomUUID()}`;
  expect(await windowsArmed(index, (object) => void object.admit(queued(lone), 100))).toBe(0);
  await vi.waitFor(() => expect((mux.events("feed-0") as unknown as FeedEntry[]).map((e) => e.type === "job" && e.data.id).at(-1)).toBe(lone));
  mux.socket.close(1000, "done");
});

it("gives the Worker's SSE and text bridges a history in a message a mark (the last seq, then each frame's wire text), which viewers read as before", async () => {
  const id = await createJob("test-logger", { lines: 10_000, perStep: 10_000 });
  await runToEnd(id);
  const all = await allEvents(id);
  for (const format of ["sse", "text"] as const) {
    // What the Worker's bridge gets from the object: one message a batch, each mark its own.
    const response = await stubOf(id).fetch(`https://object/subscribe?since=0&format=${format}&client=test`, { headers: { Upgrade: "websocket" } });
    const socket = response.webSocket!;
    const messages: string[] = [];
    let seq = 0;
    socket.addEventListener("message", (message) => {
      messages.push(message.data as string);
      const frame = parseFrame(message.data)!;
      expect(frame.seq).toBeGreaterThanOrEqual(seq);
      seq = frame.seq;
      if (frame.token !== undefined) socket.send(JSON.stringify({ type: "ack", token: frame.token }));
    });
    const closed = new Promise((resolve) => socket.addEventListener("close", resolve));
    socket.accept();
    await closed;
    expect(seq).toBe(all.at(-1)!.seq);
    expect(messages.length, format).toBeLessThan(all.length / 50);
  }
  // Through the Worker (the job has ended: bridged), every event once, in order.
  expect(sseEvents(parseSse(await (await SELF.fetch(`${BASE}/jobs/${id}/sse`)).text()))).toEqual(all);
  const lines = (await (await SELF.fetch(`${BASE}/jobs/${id}/stream`)).text()).trimEnd().split("\n");
  expect(lines).toHaveLength(all.length + 1);
});

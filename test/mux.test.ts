// Many jobs on one connection: one WebSocket (or one SSE response) carries the full event
// streams of several jobs, each from its own `since`, tagged with the job; subscribe and
// unsubscribe as it goes; after a drop, resuming gives every job's events exactly once.
import { abortAllDurableObjects, SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { ANSWER_BURST } from "../src/http/mux-routes";
import { MAX_SOURCES } from "../src/live/hub";
import type { JobEvent, JobSnapshot, MuxServerFrame } from "../src/protocol";
import { allEvents, auth, BASE, clock, createJob, runNextAlarm, runToEnd, snapshot, useVirtualClock } from "./helpers";
import { probes } from "./fixtures/jobs";
import { openMux, openSocket, parseSse, type MuxClient } from "./live-helpers";

useVirtualClock();

it("carries ten jobs on one WebSocket, each from its own since, with unsubscribe, a drop and a resume", async () => {
  const ids = await Promise.all(Array.from({ length: 10 }, () => createJob("demo", { intervalMs: 500 })));
  for (const id of ids.slice(0, 5)) await runNextAlarm(id); // these have some history already
  const first = await openMux();
  ids.forEach((id, i) => first.send({ type: "subscribe", source: id, since: i % 2 }));
  await vi.waitFor(() => expect(first.frames.filter((f) => f.type === "snapshot")).toHaveLength(10));
  // One job is dropped on purpose: its stream ends there.
  first.send({ type: "unsubscribe", source: ids[9] });
  await vi.waitFor(() => expect(first.ended(ids[9]!)).toBe(true));
  for (const id of ids) await runNextAlarm(id);
  await vi.waitFor(() => expect(first.events(ids[0]!).length).toBeGreaterThan(3));
  // The connection drops; a new one resumes each job after the last event it saw.
  first.socket.close(1000, "drop");
  await first.closed;
  for (const id of ids) await runNextAlarm(id);
  const second = await openMux();
  for (const id of ids.slice(0, 9)) second.send({ type: "subscribe", source: id, since: first.events(id).at(-1)?.seq ?? (ids.indexOf(id) % 2) });
  await Promise.all(ids.slice(0, 9).map((id) => runToEnd(id)));
  await vi.waitFor(() => expect(ids.slice(0, 9).every((id) => second.ended(id))).toBe(true), { timeout: 5_000 });
  for (const [i, id] of ids.slice(0, 9).entries()) {
    const all = await allEvents(id);
    expect([...first.events(id), ...second.events(id)], `job ${i}`).toEqual(all.slice(i % 2));
  }
  second.socket.close(1000, "done");
});

it("passes on to a job's object only acks of marks it sent: a replay past the credit flows, made-up acks wake nothing", async () => {
  // 600 lines of 1,000 characters: 600 KB, past the 256 KiB credit, so the replay needs its marks answered.
  const id = await createJob("test-logger", { lines: 600, size: 1_000, perStep: 600 });
  await runToEnd(id);
  const messages = async () => (await (await SELF.fetch(`${BASE}/jobs/${id}`, { headers: auth() })).json<JobSnapshot>()).usage!.messages;
  const before = await messages();
  const mux = await openMux();
  mux.send({ type: "subscribe", source: id, since: 0 });
  await vi.waitFor(() => expect(mux.frames.some((f) => f.type === "snapshot" && f.source === id)).toBe(true));
  // A client that acks what it was never sent, while the job's replay is under way.
  for (let i = 0; i < 30; i++) mux.send({ type: "ack", source: id, token: `made-up-${i}` });
  await vi.waitFor(() => expect(mux.ended(id)).toBe(true), { timeout: 10_000 });
  expect(mux.events(id)).toEqual(await allEvents(id));
  const marks = mux.frames.filter((f) => f.type === "mark" && f.source === id).length;
  expect(marks).toBeGreaterThan(0);
  // The genuine marks' acks reached the object (the last may come after the job's end, too
  // late to pass on), none of the made-up ones did (before, each one was a message more).
  const passedOn = (await messages()) - before;
  expect(passedOn).toBeGreaterThan(0);
  expect(passedOn).toBeLessThanOrEqual(marks);
  mux.socket.close(1000, "done");
});

it("bounds the jobs on one connection and refuses what it cannot follow", async () => {
  const mux = await openMux();
  const ids = await Promise.all(Array.from({ length: MAX_SOURCES + 1 }, () => createJob("sleepy", { duration: "1 minute" })));
  mux.send({ type: "subscribe", source: "x".repeat(32) });
  await vi.waitFor(() => expect(mux.frames.filter((f) => f.type === "error")).toHaveLength(1));
  for (const id of ids) mux.send({ type: "subscribe", source: id });
  await vi.waitFor(() => expect(mux.frames.filter((f) => f.type === "error")).toHaveLength(2));
  const errors = mux.frames.flatMap((f) => (f.type === "error" ? [f.error.code] : []));
  expect(errors.sort()).toEqual(["gone", "too_many_sources"]);
  mux.send("not json" as unknown);
  expect((await mux.closed).code).toBe(1008);
});

it("carries several jobs on one SSE response, and resumes all of them with Last-Event-ID", async () => {
  const a = await createJob("demo", { intervalMs: 0 });
  const b = await createJob("flaky", { failures: 1, delayMs: 0 });
  const stream = SELF.fetch(`${BASE}/live/sse?sources=${a},${b}`).then((r) => r.text());
  await new Promise((resolve) => setTimeout(resolve, 50));
  await runToEnd(a);
  await runToEnd(b);
  const messages = parseSse(await stream).filter((m) => m.data !== undefined);
  const frames = messages.map((m) => JSON.parse(m.data!) as MuxServerFrame);
  const events = (source: string) => frames.flatMap((f) => (f.type === "event" && f.source === source && "event" in f ? [f.event as JobEvent] : []));
  expect(events(a)).toEqual(await allEvents(a));
  expect(events(b)).toEqual(await allEvents(b));
  expect(frames.filter((f) => f.type === "end").map((f) => f.source).sort()).toEqual([a, b].sort());
  // The ids carry both positions; resuming from one in the middle gives exactly the rest.
  const middle = messages.filter((m) => m.id !== undefined)[5]!;
  const [sinceA, sinceB] = middle.id!.split(".").map(Number);
  const resumed = parseSse(await (await SELF.fetch(`${BASE}/live/sse?sources=${a},${b}`, { headers: { "Last-Event-ID": middle.id! } })).text())
    .filter((m) => m.data !== undefined).map((m) => JSON.parse(m.data!) as MuxServerFrame);
  const after = (source: string) => resumed.flatMap((f) => (f.type === "event" && f.source === source && "event" in f ? [f.event as JobEvent] : []));
  expect(after(a)).toEqual((await allEvents(a)).slice(sinceA));
  expect(after(b)).toEqual((await allEvents(b)).slice(sinceB));
  // Once every source was seen to its end, a reconnect gets 204, which stops an EventSource.
  const last = messages.filter((m) => m.id !== undefined).at(-1)!.id!;
  expect((await SELF.fetch(`${BASE}/live/sse?sources=${a},${b}`, { headers: { "Last-Event-ID": last } })).status).toBe(204);
});

it("closes a /live WebSocket 1013, and ends a /live SSE response, when a job's object restarts mid-stream (as in a deploy), never saying the job ended: resumed, it gives the rest", async () => {
  const a = await createJob("demo", { intervalMs: 500 });
  const b = await createJob("demo", { intervalMs: 500 });
  await runNextAlarm(a);
  const mux = await openMux();
  mux.send({ type: "subscribe", source: a, since: 0 });
  mux.send({ type: "subscribe", source: b, since: 0 });
  await vi.waitFor(() => expect(mux.frames.filter((f) => f.type === "snapshot")).toHaveLength(2));
  const sse = (await SELF.fetch(`${BASE}/live/sse?sources=${a},${b}`)).body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while ((text.match(/"type":"snapshot"/g) ?? []).length < 2) text += (await sse.read()).value ?? "";
  await abortAllDurableObjects();
  const timeout = <T>(promise: Promise<T>) => Promise.race([promise, new Promise<string>((resolve) => setTimeout(() => resolve("still open 3 s on"), 3_000))]);
  expect(await timeout(mux.closed.then((event) => event.code))).toBe(1013);
  const rest = async () => {
    for (let chunk = await sse.read(); !chunk.done; chunk = await sse.read()) text += chunk.value;
    return "ended";
  };
  expect(await timeout(rest())).toBe("ended");
  const sseFrames = parseSse(text).filter((m) => m.data !== undefined).map((m) => JSON.parse(m.data!) as MuxServerFrame);
  expect([...mux.frames, ...sseFrames].filter((f) => f.type === "end")).toEqual([]);
  // A new connection from each job's last seq gets exactly the rest.
  const again = await openMux();
  for (const id of [a, b]) again.send({ type: "subscribe", source: id, since: mux.events(id).at(-1)?.seq ?? 0 });
  await vi.waitFor(() => expect(again.frames.filter((f) => f.type === "snapshot")).toHaveLength(2));
  await runToEnd(a);
  await runToEnd(b);
  for (const id of [a, b]) {
    await vi.waitFor(() => expect(again.ended(id)).toBe(true));
    expect([...mux.events(id), ...again.events(id)]).toEqual(await allEvents(id));
  }
  again.socket.close(1000, "bye");
});

it("answers an SSE request for jobs that are all gone 410, and a reconnect after the rest ended 204: an EventSource stops", async () => {
  const done = await createJob("demo", { intervalMs: 0 });
  const doneEnd = await runToEnd(done);
  const deleted = await createJob("demo", { intervalMs: 0 });
  expect((await SELF.fetch(`${BASE}/jobs/${deleted}`, { method: "DELETE", headers: auth() })).status).toBe(204);
  const gone = await SELF.fetch(`${BASE}/live/sse?sources=${deleted}`);
  expect(gone.status).toBe(410);
  expect(await gone.json()).toMatchObject({ error: { code: "gone" } });
  // Still a stream while one source has something to say, with the gone one's error in it.
  const mixed = parseSse(await (await SELF.fetch(`${BASE}/live/sse?sources=${done},${deleted}`)).text()).filter((m) => m.data !== undefined);
  expect(mixed.map((m) => JSON.parse(m.data!) as MuxServerFrame).some((f) => f.type === "error" && f.source === deleted)).toBe(true);
  const reconnect = await SELF.fetch(`${BASE}/live/sse?sources=${done},${deleted}`, { headers: { "Last-Event-ID": `${doneEnd.lastSeq}.0` } });
  expect(reconnect.status).toBe(204);
});

it("answers an SSE request whose every job refuses it (too many subscribers) 429 with Retry-After, as /jobs/:id/sse does, not a 200 that ends at once (an EventSource was back every 2 s)", async () => {
  const full = await createJob("sleepy", { duration: "1 hour" });
  const deleted = await createJob("demo", { intervalMs: 0 });
  expect((await SELF.fetch(`${BASE}/jobs/${deleted}`, { method: "DELETE", headers: auth() })).status).toBe(204);
  const ip = "10.7.7.7";
  const mine = await Promise.all(Array.from({ length: 20 }, () => openSocket(full, "", ip)));
  for (const sources of [full, `${full},${deleted}`]) {
    const refused = await SELF.fetch(`${BASE}/live/sse?sources=${sources}`, { headers: { "CF-Connecting-IP": ip } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toBe("10");
    expect(await refused.json()).toMatchObject({ error: { code: "too_many_subscribers" } });
    // A HEAD answers as its GET (it asks each job as a subscribe would, and takes no subscriber).
    const head = await SELF.fetch(`${BASE}/live/sse?sources=${sources}`, { method: "HEAD", headers: { "CF-Connecting-IP": ip } });
    expect(head.status).toBe(429);
    expect(head.headers.get("Retry-After")).toBe("10");
  }
  expect((await SELF.fetch(`${BASE}/live/sse?sources=${full}`, { method: "HEAD", headers: { "CF-Connecting-IP": "10.7.7.8" } })).status).toBe(200);
  expect((await snapshot(full)).viewers).toBe(20);
  // Another client still follows it; and one source that can be followed keeps the stream, the refused one's error in it.
  const other = await SELF.fetch(`${BASE}/live/sse?sources=${full}`, { headers: { "CF-Connecting-IP": "10.7.7.8" } });
  expect(other.status).toBe(200);
  await other.body!.cancel();
  for (const client of mine) client.socket.close(1000, "bye");
});

it("answers a HEAD of /live/sse as its GET when a job's object predates `probe` (a rolling deploy), and leaves that object no subscriber", async () => {
  const id = await createJob("sleepy", { duration: "1 hour" });
  probes.ignore = true;
  try {
    // The single job's route, for comparison: its bridge accepts the socket it is given before closing it.
    expect((await SELF.fetch(`${BASE}/jobs/${id}/sse`, { method: "HEAD" })).status).toBe(200);
    expect((await SELF.fetch(`${BASE}/live/sse?sources=${id}`, { method: "HEAD" })).status).toBe(200);
  } finally {
    probes.ignore = false;
  }
  await vi.waitFor(async () => expect((await snapshot(id)).viewers).toBe(0));
});

it("answers a HEAD of /live/sse as its GET when a job's object cannot be reached: a stream, whose GET says so in the job's error frame (not a 500)", async () => {
  const id = await createJob("sleepy", { duration: "1 hour" });
  probes.fail = true;
  try {
    const get = await SELF.fetch(`${BASE}/live/sse?sources=${id}`);
    expect(get.status).toBe(200);
    const frames = parseSse(await get.text()).filter((m) => m.data !== undefined).map((m) => JSON.parse(m.data!) as MuxServerFrame);
    expect(frames).toContainEqual(expect.objectContaining({ type: "error", source: id, error: expect.objectContaining({ code: "unavailable" }) }));
    const head = await SELF.fetch(`${BASE}/live/sse?sources=${id}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("Content-Type")).toBe(get.headers.get("Content-Type"));
  } finally {
    probes.fail = false;
  }
});

it("answers a HEAD of /live/sse as its GET when a job's object answers 410, as a gone job", async () => {
  const id = await createJob("sleepy", { duration: "1 hour" });
  probes.status = 410;
  try {
    const get = await SELF.fetch(`${BASE}/live/sse?sources=${id}`);
    const head = await SELF.fetch(`${BASE}/live/sse?sources=${id}`, { method: "HEAD" });
    expect(get.status).toBe(410);
    expect(await get.json()).toMatchObject({ error: { code: "gone" } });
    expect({ status: head.status, type: head.headers.get("Content-Type") }).toEqual({ status: 410, type: get.headers.get("Content-Type") });
  } finally {
    probes.status = null;
  }
});

it("refuses an SSE source longer than any job id with a 400 that does not repeat it, as the WebSocket refuses its frame", async () => {
  const id = await createJob("demo", { intervalMs: 0 });
  await runToEnd(id);
  const long = `ECHO-MARK${"A".repeat(3_000)}`;
  const response = await SELF.fetch(`${BASE}/live/sse?sources=${id},${long}`);
  expect(response.status).toBe(400);
  const text = await response.text();
  expect(text).not.toContain("ECHO-MARK");
  expect(JSON.parse(text)).toMatchObject({ error: { code: "invalid_query" } });
});

it("answers HEAD on a live stream without taking a subscriber", async () => {
  const id = await createJob("sleepy", { duration: "1 hour" });
  await runNextAlarm(id);
  for (const path of [`/jobs/${id}/sse`, `/jobs/${id}/stream`, `/live/sse?sources=${id}`]) {
    const response = await SELF.fetch(BASE + path, { method: "HEAD" });
    expect(response.status, path).toBe(200);
    expect(await response.text()).toBe("");
  }
  expect((await SELF.fetch(`${BASE}/jobs/${id}/events`, { method: "HEAD", headers: { Accept: "text/event-stream" } })).status).toBe(200);
  expect((await snapshot(id)).viewers).toBe(0);
  // Ids that are none of ours are gone for a HEAD too, as for its GET; one of ours among them keeps it a stream.
  const forged = id.slice(0, 31) + (id.endsWith("A") ? "B" : "A");
  expect((await SELF.fetch(`${BASE}/live/sse?sources=${forged}`)).status).toBe(410);
  expect((await SELF.fetch(`${BASE}/live/sse?sources=${forged}`, { method: "HEAD" })).status).toBe(410);
  expect((await SELF.fetch(`${BASE}/live/sse?sources=${forged},${id}`, { method: "HEAD" })).status).toBe(200);
});

it("answers HEAD /live/sse of genuine ids whose jobs are all deleted 410, as its GET", async () => {
  const deleted = await createJob("sleepy", { duration: "1 hour" });
  expect((await SELF.fetch(`${BASE}/jobs/${deleted}`, { method: "DELETE", headers: auth() })).status).toBe(204);
  expect((await SELF.fetch(`${BASE}/live/sse?sources=${deleted}`)).status).toBe(410);
  expect((await SELF.fetch(`${BASE}/live/sse?sources=${deleted}`, { method: "HEAD" })).status).toBe(410);
  // One that is still there keeps it a stream, and the HEAD takes no subscriber.
  const live = await createJob("sleepy", { duration: "1 hour" });
  expect((await SELF.fetch(`${BASE}/live/sse?sources=${deleted},${live}`, { method: "HEAD" })).status).toBe(200);
  expect((await snapshot(live)).viewers).toBe(0);
});

it("answers a HEAD resuming at an ended job's end 204, as its GET, which stops an EventSource", async () => {
  const ended = await createJob("demo", { intervalMs: 0 });
  const done = await runToEnd(ended);
  const live = await createJob("sleepy", { duration: "1 hour" });
  const end = { "Last-Event-ID": String(done.lastSeq) };
  const routes = [`/jobs/${ended}/sse`, `/live/sse?sources=${ended}`];
  for (const path of routes) {
    for (const method of ["GET", "HEAD"]) expect((await SELF.fetch(BASE + path, { method, headers: end })).status, `${method} ${path}`).toBe(204);
    // Short of the end, or not resuming, there is a stream to read.
    expect((await SELF.fetch(BASE + path, { method: "HEAD", headers: { "Last-Event-ID": String(done.lastSeq - 1) } })).status, path).toBe(200);
    expect((await SELF.fetch(BASE + path, { method: "HEAD" })).status, path).toBe(200);
  }
  // With a job still to follow among them, it stays a stream.
  const both = `/live/sse?sources=${ended},${live}`;
  expect((await SELF.fetch(BASE + both, { method: "HEAD", headers: { "Last-Event-ID": `${done.lastSeq}.0` } })).status).toBe(200);
  expect((await snapshot(ended)).viewers + (await snapshot(live)).viewers).toBe(0);
});

it("closes a connection on a frame it cannot take, as a job's own socket does: binary 1003, too long 1009, an ack without a token 1008", async () => {
  const cases: [string | ArrayBuffer, number][] = [
    [new ArrayBuffer(4), 1003],
    [JSON.stringify({ type: "subscribe", source: "x", pad: "y".repeat(1_100) }), 1009],
    [JSON.stringify({ type: "ack", source: "x", token: 5 }), 1008],
  ];
  for (const [frame, code] of cases) {
    const mux = await openMux();
    mux.socket.send(frame);
    expect((await mux.closed).code).toBe(code);
  }
});

it("answers pings and subscribes at most ANSWER_BURST at once, then one a second, and closes a connection that floods them (its answers would queue without end)", async () => {
  // Pings: a burst is answered; with time, more are; a flood closes the connection (1008).
  const pings = await openMux();
  for (let i = 0; i < ANSWER_BURST; i++) pings.socket.send("ping");
  await vi.waitFor(() => expect(pings.pongs).toBe(ANSWER_BURST));
  clock.advance(5_000);
  for (let i = 0; i < 5; i++) pings.socket.send("ping");
  await vi.waitFor(() => expect(pings.pongs).toBe(ANSWER_BURST + 5));
  for (let i = 0; i < 10; i++) pings.socket.send("ping");
  expect(await pings.closed).toMatchObject({ code: 1008 });
  expect(pings.pongs).toBeLessThan(ANSWER_BURST + 5 + 10);

  // Subscribes refused (here: the same source again and again) are answered with an error each, as far as the budget goes.
  const subscribes = await openMux();
  for (let i = 0; i < ANSWER_BURST * 3; i++) subscribes.send({ type: "subscribe", source: "x".repeat(32) });
  expect(await subscribes.closed).toMatchObject({ code: 1008 });
  expect(subscribes.frames.filter((f) => f.type === "error").length).toBeLessThanOrEqual(ANSWER_BURST + 1);
});

it("closes a connection that follows nothing for LIVE_IDLE_TIMEOUT, and keeps one that follows a job however quiet", async () => {
  // vitest.config.ts sets LIVE_IDLE_TIMEOUT to 2 seconds (a minute by default). The route
  // looks at the clock every quarter of that (its only setInterval, counted here): the test
  // moves the virtual clock on, and each step waits for the route's next look, not for time.
  const IDLE_MS = 2_000;
  let looks = 0;
  const setInterval = globalThis.setInterval;
  vi.spyOn(globalThis, "setInterval").mockImplementation(((look: () => void, ms: number) => setInterval(() => (looks++, look()), ms)) as typeof globalThis.setInterval);
  /** Moves the clock on by `ms`, and waits until the route has looked since. */
  const idleFor = async (ms: number) => {
    clock.advance(ms);
    const seen = looks;
    await vi.waitFor(() => expect(looks).toBeGreaterThan(seen), { timeout: IDLE_MS, interval: 20 });
  };
  /** A ping's pong: the route had not closed the connection when it came. */
  const stillOpen = async (mux: MuxClient) => {
    const pongs = mux.pongs;
    mux.socket.send("ping");
    await vi.waitFor(() => expect(mux.pongs).toBe(pongs + 1));
  };

  const idle = await openMux();
  await idleFor(IDLE_MS / 4);
  await stillOpen(idle);
  await idleFor((3 * IDLE_MS) / 4);
  expect(await idle.closed).toMatchObject({ code: 1000, reason: "following nothing" });
  expect(idle.frames).toEqual([]);

  const id = await createJob("sleepy", { duration: "1 hour" });
  const quiet = await openMux();
  quiet.send({ type: "subscribe", source: id });
  await vi.waitFor(() => expect(quiet.frames.some((f) => f.type === "snapshot")).toBe(true));
  let closed = false;
  void quiet.closed.then(() => (closed = true));
  await idleFor(2 * IDLE_MS);
  await stillOpen(quiet);
  expect(closed).toBe(false);
  // Its job unsubscribed, it follows nothing: it is closed in turn.
  quiet.send({ type: "unsubscribe", source: id });
  await vi.waitFor(() => expect(quiet.ended(id)).toBe(true));
  await idleFor(IDLE_MS);
  expect(await quiet.closed).toMatchObject({ code: 1000, reason: "following nothing" });
});

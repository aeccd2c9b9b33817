// The owner feed: every change to the owner's jobs, live over WebSocket and SSE, resumable.
import { abortAllDurableObjects, env, evictDurableObject, SELF } from "cloudflare:test";
import { sign } from "hono/jwt";
import { expect, it, vi } from "vitest";
import { JOB_TYPES } from "../app/jobs";
import type { Env } from "../src/env";
import { createApp } from "../src/http/app";
import { MAX_SOURCES } from "../src/live/hub";
import { createClient } from "../src/sdk/client";
import { JobRegistry } from "../src/jobs/registry";
import type { CreatedJob, FeedEntry, MuxServerFrame } from "../src/protocol";
import { auth, BASE, postJson, runToEnd, UPGRADE, useVirtualClock } from "./helpers";
import { parseSse } from "./live-helpers";
import { TEST_SECRETS } from "./secrets";

useVirtualClock();

const ownerToken = async () => sign({ sub: `feed-${crypto.randomUUID().slice(0, 8)}`, exp: Math.floor(Date.now() / 1000) + 3600 }, TEST_SECRETS.JWT_SECRET, "HS256");
const create = async (token: string, type = "demo") => (await (await postJson("/jobs", { type, input: { intervalMs: 0 } }, {}, token)).json<CreatedJob>()).id;
const entries = (frames: MuxServerFrame[]) => frames.flatMap((f) => (f.type === "event" && "event" in f ? [f.event as unknown as FeedEntry] : []));

it("streams an owner's job changes live over WebSocket, from a snapshot of the counts", async () => {
  const token = await ownerToken();
  const done = await create(token);
  await runToEnd(done);
  const response = await SELF.fetch(`${BASE}/feed/ws`, { headers: { ...UPGRADE, ...auth(token) } });
  expect(response.status).toBe(101);
  const socket = response.webSocket!;
  const frames: MuxServerFrame[] = [];
  socket.addEventListener("message", (m) => frames.push(JSON.parse(m.data as string) as MuxServerFrame));
  socket.accept();
  await vi.waitFor(() => expect(frames[0]).toMatchObject({ type: "snapshot", source: "feed-0", snapshot: { counts: { succeeded: 1 } } }), { timeout: 3_000 });
  await vi.waitFor(() => expect(entries(frames).map((e) => e.type === "job" && e.data.state)).toContain("succeeded"), { timeout: 3_000 });
  const live = await create(token);
  await vi.waitFor(() => expect(entries(frames).some((e) => e.type === "job" && e.data.id === live && e.data.state === "queued")).toBe(true));
  await runToEnd(live);
  await vi.waitFor(() => expect(entries(frames).some((e) => e.type === "job" && e.data.id === live && e.data.state === "succeeded")).toBe(true), { timeout: 5_000 });
  const seqs = entries(frames).map((e) => e.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  socket.close(1000, "bye");
});

it("goes on after the index slept: the first change it records once woken reaches its subscribers", async () => {
  const token = await ownerToken();
  const owner = JSON.parse(atob(token.split(".")[1]!)).sub as string;
  const response = await SELF.fetch(`${BASE}/feed/ws`, { headers: { ...UPGRADE, ...auth(token) } });
  const socket = response.webSocket!;
  const frames: MuxServerFrame[] = [];
  socket.addEventListener("message", (m) => frames.push(JSON.parse(m.data as string) as MuxServerFrame));
  socket.accept();
  await vi.waitFor(() => expect(frames[0]).toMatchObject({ type: "snapshot" }));
  await evictDurableObject(env.INDEX.get(env.INDEX.idFromName(`${owner}\u00000`)));
  const id = await create(token);
  await vi.waitFor(() => expect(entries(frames).map((e) => e.type === "job" && `${e.data.id}:${e.data.state}`)).toEqual([`${id}:queued`]));
  socket.close(1000, "bye");
});

it("goes on after the index restarted (as in a deploy): the client's feed reconnects and hears of the next job", async () => {
  const token = await ownerToken();
  const before = await create(token);
  const client = createClient({ baseUrl: BASE, token, fetch: SELF.fetch.bind(SELF), backoff: { initialMs: 10, maxMs: 50 } });
  const stop = new AbortController();
  const heard: string[] = [];
  void (async () => {
    for await (const entry of client.feed({ since: "0", signal: stop.signal })) if (entry.type === "job") heard.push(entry.data.id);
  })();
  await vi.waitFor(() => expect(heard).toContain(before));
  await abortAllDurableObjects();
  const after = await create(token);
  // The restarted shard's stream had ended while the response went on, following nothing.
  await vi.waitFor(() => expect(heard).toContain(after), { timeout: 5_000 });
  stop.abort();
});

it("closes a feed WebSocket whose shard went away (1013), so its client reconnects rather than miss that shard", async () => {
  const socket = (await SELF.fetch(`${BASE}/feed/ws`, { headers: { ...UPGRADE, ...auth(await ownerToken()) } })).webSocket!;
  const frames: MuxServerFrame[] = [];
  socket.addEventListener("message", (m) => frames.push(JSON.parse(m.data as string) as MuxServerFrame));
  const closed = new Promise<number>((resolve) => socket.addEventListener("close", (event) => resolve(event.code)));
  socket.accept();
  await vi.waitFor(() => expect(frames[0]).toMatchObject({ type: "snapshot" }));
  await abortAllDurableObjects();
  expect(await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve("still open 3 s on"), 3_000))])).toBe(1013);
});

it("answers a feed over SSE that its shard refuses (one owner's 21st) 429, which the client backs off from, not a 200 that ends at once and says Live", async () => {
  const token = await ownerToken();
  const held: WebSocket[] = [];
  for (let i = 0; i < 20; i++) { // MAX_SUBSCRIBERS_PER_CLIENT
    const socket = (await SELF.fetch(`${BASE}/feed/ws`, { headers: { ...UPGRADE, ...auth(token) } })).webSocket!;
    const snapshot = new Promise((resolve) => socket.addEventListener("message", resolve, { once: true }));
    socket.accept();
    await snapshot;
    held.push(socket);
  }
  const refused = await SELF.fetch(`${BASE}/feed/sse`, { headers: auth(token) });
  expect(refused.status).toBe(429);
  expect(refused.headers.get("Retry-After")).toBe("10");
  expect(await refused.json()).toMatchObject({ error: { code: "too_many_subscribers" } });
  // The dashboard's client: it said Live and came back at once, again and again, for good.
  // Now it is refused, says so, and waits the Retry-After (test/unit/client-liveness.test.ts).
  const answers: number[] = [];
  const statuses: string[] = [];
  const counted: typeof fetch = async (input, init) => {
    const response = await SELF.fetch(input, init);
    answers.push(response.status);
    return response;
  };
  const client = createClient({ baseUrl: BASE, token, fetch: counted, backoff: { initialMs: 10, maxMs: 1_000 } });
  const stop = new AbortController();
  const feed = client.feed({ signal: stop.signal, onStatus: (status) => statuses.push(status) });
  void (async () => {
    for await (const entry of feed) void entry;
  })();
  await vi.waitFor(() => expect(answers).toEqual([429]), { timeout: 5_000 });
  stop.abort();
  expect(statuses).not.toContain("live");
  for (const socket of held) socket.close(1000, "bye");
});

it("resumes the feed over SSE after a seq: every job changed since, and nothing of others'", async () => {
  const token = await ownerToken();
  const first = await create(token);
  const all = entries(await readUntil(token, "since=0", first));
  expect(all.map((e) => e.type === "job" && e.data.id)).toEqual([first]);
  const second = await create(token);
  const after = entries(await readUntil(token, `since=${all.at(-1)!.seq}`, second));
  expect(after.map((e) => e.type === "job" && e.data.id)).toEqual([second]);
  expect((await SELF.fetch(`${BASE}/feed/sse`)).status).toBe(401);
});

/** Reads the feed until it mentions job `id`, then leaves. */
async function readUntil(token: string, query: string, id: string): Promise<MuxServerFrame[]> {
  const response = await SELF.fetch(`${BASE}/feed/sse?${query}`, { headers: auth(token) });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  let text = "";
  while (!text.includes(`"id":"${id}"`)) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  return parseSse(text).filter((m) => m.data).map((m) => JSON.parse(m.data!) as MuxServerFrame);
}

it("ends a feed when the credentials it was opened with expire: a JWT's, over WebSocket and SSE, and a session's", async () => {
  const sub = `feed-${crypto.randomUUID().slice(0, 8)}`;
  // Expires in 1 to 2 s of real time (exp is in whole seconds).
  const token = await sign({ sub, exp: Math.floor(Date.now() / 1000) + 2 }, TEST_SECRETS.JWT_SECRET, "HS256");
  const socket = (await SELF.fetch(`${BASE}/feed/ws`, { headers: { ...UPGRADE, ...auth(token) } })).webSocket!;
  const closed = new Promise<number>((resolve) => socket.addEventListener("close", (event) => resolve(event.code)));
  socket.accept();
  const stream = await SELF.fetch(`${BASE}/feed/sse`, { headers: auth(token) });
  const read = stream.text();
  // A dashboard session started with that JWT ends with it too.
  const signedIn = await SELF.fetch(`${BASE}/session`, { method: "POST", body: new URLSearchParams({ credential: token }), redirect: "manual" });
  const cookie = signedIn.headers.get("Set-Cookie")!.split(";")[0]!;
  const session = await SELF.fetch(`${BASE}/feed/sse`, { headers: { Cookie: cookie } });
  expect([stream.status, session.status]).toEqual([200, 200]);
  const sessionRead = session.text();
  const within = <T>(promise: Promise<T>) => Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error("still open 5 s on")), 5_000))]);
  expect(await within(closed)).toBe(1008);
  expect(await within(read)).toContain("retry:");
  expect(await within(sessionRead)).toContain("retry:");
  // Coming back with them is refused, which stops an EventSource and the client.
  expect((await SELF.fetch(`${BASE}/feed/sse`, { headers: auth(token) })).status).toBe(401);
});

it("follows every shard of an owner's index, more than the 20 sources a /live connection takes", async () => {
  const shards = MAX_SOURCES + 5;
  const app = createApp({ types: new JobRegistry(JOB_TYPES) });
  const deployment = { ...env, ...TEST_SECRETS, INDEX_SHARDS: String(shards) } as Env;
  const response = await app.request(`${BASE}/feed/sse`, { headers: auth(await ownerToken()) }, deployment);
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  let text = "";
  const frames = () => parseSse(text).filter((m) => m.data).map((m) => JSON.parse(m.data!) as MuxServerFrame);
  while (frames().filter((f) => f.type === "snapshot").length < shards && !frames().some((f) => f.type === "error")) {
    text += new TextDecoder().decode((await reader.read()).value);
  }
  await reader.cancel();
  expect(frames().filter((f) => f.type === "error")).toEqual([]);
  expect(new Set(frames().map((f) => f.source))).toEqual(new Set(Array.from({ length: shards }, (_, shard) => `feed-${shard}`)));
});

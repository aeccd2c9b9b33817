// The WebSocket transport: snapshot first, ordered events, exact resume, close on the end.
import { runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { mintJobId } from "../src/http/job-id";
import { TEST_SECRETS } from "./secrets";
import { allEvents, BASE, createJob, runNextAlarm, runToEnd, snapshot, stubOf, UPGRADE, useVirtualClock } from "./helpers";
import { openSocket } from "./live-helpers";

useVirtualClock();

it("delivers a whole job in order, snapshot first, then closes with 1000", async () => {
  const id = await createJob("demo");
  const client = await openSocket(id);
  await vi.waitFor(() => expect(client.frames.length).toBeGreaterThanOrEqual(2));
  expect(client.frames[0]).toMatchObject({ type: "snapshot", snapshot: { id, state: "queued", lastSeq: 1 } });
  await runToEnd(id);
  const closed = await client.closed;
  expect(closed.code).toBe(1000);
  expect(client.events()).toEqual(await allEvents(id));
  expect(client.frames.filter((f) => f.type === "snapshot")).toHaveLength(1);
});

it("resumes from every seq of a finished job's history with exactly the tail", async () => {
  const id = await createJob("flaky", { failures: 1, delayMs: 10 });
  await runToEnd(id);
  const all = await allEvents(id);
  for (let since = 0; since <= all.length; since++) {
    const client = await openSocket(id, `?since=${since}`);
    expect((await client.closed).code).toBe(1000); // a late joiner: history, then the end
    expect(client.frames[0]).toMatchObject({ type: "snapshot", snapshot: { state: "succeeded", lastSeq: all.length } });
    expect(client.events()).toEqual(all.slice(since));
  }
});

it("neither loses nor repeats events published while subscribers join mid-job", async () => {
  const id = await createJob("primes", { n: 3_000_000, segment: 50_000 });
  const slice = runDurableObjectAlarm(stubOf(id)); // 60 steps, with status reads answered between them
  const clients = [];
  for (let i = 0; i < 12; i++) {
    const since = (await snapshot(id)).lastSeq - (i % 3); // some join with a little history to replay
    clients.push({ since: Math.max(0, since), client: await openSocket(id, `?since=${Math.max(0, since)}`) });
  }
  await slice;
  await runToEnd(id);
  const all = await allEvents(id);
  for (const { since, client } of clients) {
    await client.closed;
    expect(client.events()).toEqual(all.slice(since));
  }
});

it("answers ping with pong and closes on any other frame without harming the job", async () => {
  const id = await createJob("demo");
  const pinger = await openSocket(id);
  const pong = new Promise<string>((resolve) => pinger.socket.addEventListener("message", (m) => m.data === "pong" && resolve(m.data)));
  pinger.socket.send("ping");
  expect(await pong).toBe("pong");

  const cases: [string | ArrayBuffer, number][] = [["hello", 1008], ['{"type":"publish"}', 1008], [new ArrayBuffer(8), 1003], ["x".repeat(2048), 1009]];
  for (const [frame, code] of cases) {
    const client = await openSocket(id);
    client.socket.send(frame);
    expect((await client.closed).code).toBe(code);
  }
  expect((await runToEnd(id)).state).toBe("succeeded");
});

it("removes subscribers that disconnect", async () => {
  const id = await createJob("sleepy");
  const clients = await Promise.all([1, 2, 3].map(() => openSocket(id)));
  const count = () => runInDurableObject(stubOf(id), (_, state) => state.getWebSockets().length);
  expect(await count()).toBe(3);
  for (const client of clients) client.socket.close(1000, "bye");
  await vi.waitFor(async () => expect(await count()).toBe(0));
});

it("refuses the upgrade with 410 for a genuine id with no job and 426 without an upgrade", async () => {
  const unknown = await mintJobId(TEST_SECRETS.JOB_ID_SECRET);
  const refused = await SELF.fetch(`${BASE}/jobs/${unknown}/ws`, { headers: UPGRADE });
  expect(refused.status).toBe(410);
  expect(refused.webSocket).toBeNull();
  const id = await createJob("demo");
  expect((await SELF.fetch(`${BASE}/jobs/${id}/ws`)).status).toBe(426);
});

const ip = (i: number) => `10.0.${Math.floor(i / 250)}.${i % 250}`;

it("caps subscribers per job (250 in the tests): the next upgrade gets 429", async () => {
  const id = await createJob("sleepy");
  const clients = await Promise.all(Array.from({ length: 250 }, (_, i) => openSocket(id, "", ip(i))));
  const refused = await SELF.fetch(`${BASE}/jobs/${id}/ws`, { headers: { ...UPGRADE, "CF-Connecting-IP": "10.9.9.9" } });
  expect(refused.status).toBe(429);
  // A slot frees when a viewer leaves: clients are told to wait rather than come straight back.
  expect(refused.headers.get("Retry-After")).toBe("10");
  expect(await refused.json()).toMatchObject({ error: { code: "too_many_subscribers", message: expect.stringContaining("250 live subscribers") } });
  const sse = await SELF.fetch(`${BASE}/jobs/${id}/sse`, { headers: { "CF-Connecting-IP": "10.9.9.9" } });
  expect(sse.status).toBe(429);
  expect(sse.headers.get("Retry-After")).toBe("10");
  // A HEAD answers as its GET would: full (it was 200 while every GET was 429).
  for (const route of ["sse", "stream"]) {
    const head = await SELF.fetch(`${BASE}/jobs/${id}/${route}`, { method: "HEAD", headers: { "CF-Connecting-IP": "10.9.9.9" } });
    expect(head.status, route).toBe(429);
    expect(head.headers.get("Retry-After"), route).toBe("10");
  }
  expect((await snapshot(id)).viewers).toBe(250);
  for (const client of clients) client.socket.close(1000, "bye");
});

it("caps each client's subscribers on one job (20), so one client cannot fill the job's cap; an IPv6 /64 is one client", async () => {
  const id = await createJob("sleepy");
  const mine = await Promise.all(Array.from({ length: 20 }, (_, i) => openSocket(id, "", `2001:db8:0:1::${i + 1}`)));
  for (const transport of ["ws", "sse", "stream"]) {
    const refused = await SELF.fetch(`${BASE}/jobs/${id}/${transport}`, { headers: { ...UPGRADE, "CF-Connecting-IP": "2001:db8:0:1:ffff::9" } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toBe("10");
    expect(await refused.json()).toMatchObject({ error: { code: "too_many_subscribers", message: expect.stringContaining("You already have 20") } });
  }
  // Someone else still gets in; and a slot comes back when one of mine leaves.
  const other = await openSocket(id, "", "2001:db8:0:2::1");
  mine[0]!.socket.close(1000, "bye");
  await vi.waitFor(async () => expect((await SELF.fetch(`${BASE}/jobs/${id}/ws`, { headers: { ...UPGRADE, "CF-Connecting-IP": "2001:db8:0:1::1" } })).status).toBe(101));
  for (const client of [...mine, other]) client.socket.close(1000, "bye");
});

it("delivers every event to 200 concurrent subscribers", async () => {
  const id = await createJob("demo", { intervalMs: 100 });
  const clients = await Promise.all(Array.from({ length: 200 }, (_, i) => openSocket(id, i % 2 ? "" : "?since=1", ip(i))));
  await runNextAlarm(id);
  await runToEnd(id);
  const all = await allEvents(id);
  await Promise.all(clients.map((c) => c.closed));
  clients.forEach((client, i) => expect(client.events()).toEqual(all.slice(i % 2 ? 0 : 1)));
});

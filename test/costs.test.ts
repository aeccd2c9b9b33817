// What a job costs, from the object's own counters (shown to its owner as `usage`):
// about one row written per step, and alarms only for what is due later.
import { env, evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import { sign } from "hono/jwt";
import { expect, it, vi } from "vitest";
import type { CreatedJob, JobSnapshot } from "../src/protocol";
import { auth, BASE, clock, createJob, postJson, runNextAlarm, runToEnd, stubOf, useVirtualClock } from "./helpers";
import { openSocket } from "./live-helpers";
import { BOB, TEST_SECRETS } from "./secrets";

useVirtualClock();

const asOwner = async (id: string, token?: string) => (await SELF.fetch(`${BASE}/jobs/${id}`, { headers: auth(token) })).json<JobSnapshot>();

it("writes at most 1.5 rows per step for 60 steps with a log line and a progress update each, alarms included", async () => {
  const id = await createJob("test-many-steps", { steps: 60, chatty: true });
  await runToEnd(id);
  const { usage, lastSeq } = await asOwner(id);
  expect(lastSeq).toBeGreaterThan(180); // 60 started, 60 logs, 60 succeeded, progress, states
  expect(usage!.rowsWritten / 60).toBeLessThanOrEqual(1.5);
  expect(usage!.alarms).toBeLessThanOrEqual(3);
});

it("arms no alarm for a zero-length sleep: demo without pauses arms 3, the retention alarm included", async () => {
  const id = await createJob("demo", { intervalMs: 0 });
  await runToEnd(id);
  expect((await asOwner(id)).usage).toMatchObject({ alarms: 3 });
});

it("continues a zero-length sleep at once on a clock that moves between any two reads", async () => {
  // Workers' clock stands still within a turn; the test runtime's does not.
  let tick = 0;
  vi.spyOn(Date, "now").mockImplementation(() => clock.now() + tick++);
  const id = await createJob("demo", { intervalMs: 0 });
  await runToEnd(id);
  expect((await asOwner(id)).usage).toMatchObject({ alarms: 3 });
});

it("reads nothing back when it makes a job: a short job runs 14 SQL statements in all, its owner's index included", async () => {
  // An owner of its own, so that its index's writes (a purge every 100) count from this
  // test's: files share storage (vitest.config.ts), and Alice's index has other files' writes.
  const owner = `costs-${crypto.randomUUID().slice(0, 8)}`;
  const token = await sign({ sub: owner, exp: Math.floor(Date.now() / 1000) + 3600 }, TEST_SECRETS.JWT_SECRET, "HS256");
  const create = async () => {
    const response = await postJson("/jobs", { type: "demo", input: { intervalMs: 0 } }, {}, token);
    expect(response.status).toBe(201);
    return (await response.json<CreatedJob>()).id;
  };
  // Objects in tests share this isolate's SqlStorage: counted at its prototype, with the
  // storage each statement ran on.
  const statements: { on: unknown; query: string }[] = [];
  await runInDurableObject(stubOf(await create()), (_, state) => {
    const sql = Object.getPrototypeOf(state.storage.sql) as { exec(query: string, ...bindings: unknown[]): unknown };
    const exec = sql.exec;
    vi.spyOn(sql, "exec").mockImplementation(function (this: unknown, query: string, ...bindings: unknown[]) {
      statements.push({ on: this, query: query.trim() });
      return exec.call(this, query, ...bindings);
    });
  });
  const id = await create();
  const created = statements.splice(0);
  await runToEnd(id);
  const ran = statements.splice(0);
  // The job's and its index's: another file's object may write meanwhile.
  const storageOf = (stub: DurableObjectStub) => runInDurableObject(stub, (_, state) => state.storage.sql);
  const own = new Set([await storageOf(stubOf(id)), await storageOf(env.INDEX.get(env.INDEX.idFromName(`${owner}\u00000`)))]);
  const queries = (list: typeof statements) => list.filter((s) => own.has(s.on as SqlStorage)).map((s) => s.query);
  // The job's probe for an earlier create, the index's for the id; then writes only.
  expect(queries(created).filter((query) => query.startsWith("SELECT"))).toEqual([expect.stringContaining("sqlite_master"), expect.stringContaining("FROM jobs WHERE id")]);
  expect(queries(created).length + queries(ran).length).toBe(14);
});

it("shows usage to the job's owner only", async () => {
  const id = await createJob("demo", { intervalMs: 0 });
  await runToEnd(id);
  const usage = (await asOwner(id)).usage!;
  expect(usage.requests).toBeGreaterThan(0);
  expect(usage.awakeMs).toBeGreaterThanOrEqual(0);
  expect((await (await SELF.fetch(`${BASE}/jobs/${id}`)).json<JobSnapshot>()).usage).toBeUndefined();
  expect((await asOwner(id, BOB)).usage).toBeUndefined();
});

it("counts requests as Cloudflare bills them: an alarm run is one, WebSocket messages are counted apart", async () => {
  const id = await createJob("sleepy", { duration: "1 minute" });
  const before = (await asOwner(id)).usage!;
  await runNextAlarm(id); // one alarm run
  const viewer = await openSocket(id); // one subscribe
  viewer.socket.send("not an ack"); // one message (the object closes the socket for it)
  await viewer.closed;
  const after = (await asOwner(id)).usage!; // and this read
  expect(after.requests - before.requests).toBe(3);
  expect(after.messages - before.messages).toBe(1);
});

it("counts every call into the object: a job page for a browser is three (its snapshot, its first events, whether the viewer may cancel)", async () => {
  const id = await createJob("sleepy", { duration: "1 minute" });
  const before = (await asOwner(id)).usage!;
  expect((await SELF.fetch(`${BASE}/jobs/${id}`, { headers: { Accept: "text/html" } })).status).toBe(200);
  const after = (await asOwner(id)).usage!; // and this read
  expect(after.requests - before.requests).toBe(4);
});

it("stores a finished job's whole cost with its end: rows and alarms stay the same after the object is evicted", async () => {
  const id = await createJob("demo", { intervalMs: 0 });
  await runToEnd(id);
  const before = (await asOwner(id)).usage!;
  await evictDurableObject(stubOf(id));
  const after = (await asOwner(id)).usage!;
  expect(after).toMatchObject({ rowsWritten: before.rowsWritten, alarms: 3 });
  expect(after.awakeMs).toBeGreaterThanOrEqual(0);
});

it("writes a flood of log lines from one turn of a step in a few rows", async () => {
  const id = await createJob("test-logger", { lines: 1_000, perStep: 1_000 });
  await runToEnd(id);
  const { usage, lastSeq } = await asOwner(id);
  expect(lastSeq).toBeGreaterThan(1_000);
  expect(usage!.rowsWritten).toBeLessThan(15);
});

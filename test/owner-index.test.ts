// Each owner's jobs in its index: listed newest first with cursors, filtered, counted,
// never shown to another owner; kept current by the jobs' reports, through failures.
import { abortAllDurableObjects, env, evictDurableObject, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import type { Env } from "../src/env";
import { createApp } from "../src/http/app";
import { JOB_TYPES } from "../app/jobs";
import { JobRegistry } from "../src/jobs/registry";
import type { ApiError, CreatedJob, JobList } from "../src/protocol";
import { listCursor, listedBefore } from "../src/lib/list-cursor";
import { listingOf } from "../src/owners/listing";
import { indexFor, indexShard } from "../src/owners/shards";
import { REPORT_INTERVAL_MS } from "../src/job/reporter";
import { indexFaults, redeployed } from "./fixtures/jobs";
import { alarmAt, allEvents, auth, BASE, clock, postJson, runNextAlarm, runToEnd, snapshot, states, stubOf, useVirtualClock } from "./helpers";
import { TEST_SECRETS } from "./secrets";

useVirtualClock();

/** A fresh owner per test, so lists start empty. */
async function freshOwner(): Promise<{ name: string; token: string; list: (query?: string) => Promise<JobList> }> {
  const name = `owner-${crypto.randomUUID().slice(0, 8)}`;
  const { sign } = await import("hono/jwt");
  const token = await sign({ sub: name, exp: Math.floor(Date.now() / 1000) + 3600 }, TEST_SECRETS.JWT_SECRET, "HS256");
  const list = async (query = "") => {
    const response = await SELF.fetch(`${BASE}/jobs${query}`, { headers: auth(token) });
    expect(response.status).toBe(200);
    return response.json<JobList>();
  };
  return { name, token, list };
}

async function create(token: string, type: string, input: unknown, tags: string[] = []): Promise<string> {
  const response = await postJson("/jobs", { type, input, tags }, {}, token);
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json<CreatedJob>()).id;
}

/**
 * Starts `start` with the index `fault` on, waits until `reached` holds, then kills every
 * object, as a runtime that died while the index's answer was on its way.
 */
async function crashWhile(fault: "admitHangs" | "reportHangs" | "removeHangs", start: () => Promise<unknown>, reached: () => Promise<unknown>): Promise<void> {
  indexFaults[fault] = true;
  try {
    const started = start().catch((error: unknown) => error);
    await vi.waitFor(reached);
    await abortAllDurableObjects();
    await started;
  } finally {
    indexFaults[fault] = false;
  }
}

/** Creates of a minute's sleepy job, with these headers, under a deployment whose MAX_ACTIVE_JOBS is `maxActive`. */
function sleepyCreates(token: string, maxActive: number): (headers?: Record<string, string>) => Promise<Response> {
  const app = createApp({ types: new JobRegistry(JOB_TYPES) });
  const deployment = { ...env, ...TEST_SECRETS, MAX_ACTIVE_JOBS: String(maxActive) } as Env;
  return async (headers = {}) => app.request(`${BASE}/jobs`, {
    method: "POST", headers: { "Content-Type": "application/json", ...headers, ...auth(token) }, body: '{"type":"sleepy","input":{"duration":"1 minute"}}',
  }, deployment);
}

/** A demo job's create whose first `lost` admissions the index stores and answers with an error. */
async function createLosingAdmissions(token: string, lost: number, headers: Record<string, string> = {}): Promise<Response> {
  indexFaults.admitAnswersLost = lost;
  try {
    return await postJson("/jobs", { type: "demo", input: { intervalMs: 0 } }, headers, token);
  } finally {
    indexFaults.admitAnswersLost = 0;
  }
}

/** Runs `test` with the reports to `owner`'s index held; `release(n)` lets the n-th held one through. */
async function withHeldReports(owner: string, test: (release: (n: number) => Promise<void>) => Promise<void>): Promise<void> {
  const index = indexShard(env, owner, 0) as unknown as DurableObjectStub;
  indexFaults.holdReports = true;
  try {
    await test((n) => runInDurableObject(index, () => indexFaults.heldReports[n]!()));
  } finally {
    indexFaults.holdReports = false;
    indexFaults.heldReports.length = 0;
  }
}

/** Runs `test` with admissions to `owner`'s index held; `release(n)` has the n-th held one decided and answered. */
async function withHeldAdmissions(owner: string, test: (release: (n: number) => Promise<void>) => Promise<void>): Promise<void> {
  const index = indexShard(env, owner, 0) as unknown as DurableObjectStub;
  indexFaults.holdAdmissions = true;
  try {
    await test((n) => runInDurableObject(index, () => indexFaults.heldAdmissions[n]!()));
  } finally {
    indexFaults.holdAdmissions = false;
    indexFaults.heldAdmissions.length = 0;
    indexFaults.heldIds.length = 0;
  }
}

/**
 * A create at the cap whose admission the index answers only after the new job's report
 * timer (REPORT_INTERVAL_MS, set as the job is made) has fired: refused (429). The timer fires
 * as soon as the admission is held, not a second later: the job's own report of its queued
 * state is due while the index decides, as when the index is slower than a report's interval.
 */
async function slowRefusedCreate(owner: string, post: () => Promise<Response>): Promise<void> {
  let fired = 0;
  const setTimeout = globalThis.setTimeout;
  const timers = vi.spyOn(globalThis, "setTimeout").mockImplementation(((callback: () => void, ms?: number) => {
    if (ms !== REPORT_INTERVAL_MS || fired > 0) return setTimeout(callback, ms);
    const fire = (): unknown => (indexFaults.heldAdmissions.length === 0 ? setTimeout(fire, 1) : (fired++, callback()));
    return setTimeout(fire, 1);
  }) as typeof globalThis.setTimeout);
  try {
    await withHeldAdmissions(owner, async (release) => {
      const refused = post();
      await vi.waitFor(() => expect(indexFaults.heldAdmissions).toHaveLength(1));
      await vi.waitFor(() => expect(fired).toBe(1));
      await release(0);
      expect((await refused).status).toBe(429);
    });
  } finally {
    timers.mockRestore();
  }
}

it("lists an owner's jobs newest first, a page at a time, with counts by state, and filters them", async () => {
  const { token, list } = await freshOwner();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push(await create(token, i % 2 ? "sleepy" : "demo", i % 2 ? { duration: "1 minute" } : { intervalMs: 0 }, i < 2 ? ["batch-1"] : ["batch-2", "x"]));
    await new Promise((resolve) => setTimeout(resolve, 2)); // distinct creation times
  }
  await runToEnd(ids[0]!);
  await runToEnd(ids[2]!);
  await runNextAlarm(ids[1]!); // sleeping: waiting
  await vi.waitFor(async () => expect((await list()).counts).toMatchObject({ succeeded: 2, waiting: 1, queued: 2 }), { timeout: 5_000 });

  const first = await list("?limit=2");
  expect(first.jobs.map((j) => j.id)).toEqual([ids[4], ids[3]]);
  const second = await list(`?limit=2&cursor=${first.next}`);
  expect(second.jobs.map((j) => j.id)).toEqual([ids[2], ids[1]]);
  const third = await list(`?limit=2&cursor=${second.next}`);
  expect(third.jobs.map((j) => j.id)).toEqual([ids[0]]);
  expect(third.next).toBeNull();
  // A last page that is full says it is the last: no `next` to an empty page.
  const lastFull = await list(`?limit=3&cursor=${first.next}`);
  expect(lastFull.jobs.map((j) => j.id)).toEqual([ids[2], ids[1], ids[0]]);
  expect(lastFull.next).toBeNull();
  expect((await list("?limit=5")).next).toBeNull();

  expect((await list("?state=succeeded")).jobs.map((j) => j.id)).toEqual([ids[2], ids[0]]);
  expect((await list("?type=sleepy")).jobs.map((j) => j.id)).toEqual([ids[3], ids[1]]);
  expect((await list("?tag=batch-1")).jobs.map((j) => j.id)).toEqual([ids[1], ids[0]]);
  expect((await list("?tag=x&state=queued")).jobs.map((j) => j.id)).toEqual([ids[4], ids[3]]);
  const done = (await list("?state=succeeded")).jobs[0]!;
  expect(done).toMatchObject({ type: "demo", state: "succeeded", tags: ["batch-2", "x"], percent: 100, message: "All done" });
  expect(done.finishedAt).toBeGreaterThanOrEqual(done.createdAt);
});

it("orders jobs of the same millisecond by id, as the dashboard's rows and cursors do: pages take each once", async () => {
  const { token, list } = await freshOwner();
  const at = Date.now();
  vi.spyOn(Date, "now").mockReturnValue(at);
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push(await create(token, "sleepy", { duration: "1 minute" }));
  vi.mocked(Date.now).mockRestore();
  const all = (await list()).jobs;
  expect(all.map((j) => j.createdAt)).toEqual(ids.map(() => at));
  for (let i = 1; i < all.length; i++) expect(listedBefore(all[i - 1]!, all[i]!)).toBe(true);
  // Paged by the cursor the dashboard makes of its last row.
  const paged: string[] = [];
  for (let page = await list("?limit=2"); ; ) {
    paged.push(...page.jobs.map((j) => j.id));
    if (page.jobs.length < 2) break;
    page = await list(`?limit=2&cursor=${listCursor(page.jobs.at(-1)!)}`);
  }
  expect(paged).toEqual(all.map((j) => j.id));
  expect(new Set(paged)).toEqual(new Set(ids));
});

it("shows an owner only its own jobs, and nobody's to anonymous callers", async () => {
  const alice = await freshOwner();
  const bob = await freshOwner();
  const id = await create(alice.token, "demo", {});
  expect((await alice.list()).jobs.map((j) => j.id)).toEqual([id]);
  expect((await bob.list()).jobs).toEqual([]);
  const anonymous = await SELF.fetch(`${BASE}/jobs`);
  expect(anonymous.status).toBe(401);
});

it("refuses bad list queries with 400", async () => {
  const { token } = await freshOwner();
  for (const query of ["state=done", "limit=0", "limit=101", "tag=%20", "cursor=nope", `type=${"t".repeat(101)}`]) {
    const response = await SELF.fetch(`${BASE}/jobs?${query}`, { headers: auth(token) });
    expect(response.status, query).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_query" } });
  }
});

it("refuses a list parameter it does not know (a typo would list every job, unfiltered, to a script that may delete each), naming it only when it could be one of ours", async () => {
  const { token } = await freshOwner();
  const refusal = async (query: string) => {
    const response = await SELF.fetch(`${BASE}/jobs?${query}`, { headers: auth(token) });
    expect(response.status, query).toBe(400);
    return (await response.json() as ApiError).error;
  };
  expect(await refusal("stat=failed")).toEqual({ code: "invalid_query", message: "Unknown query parameter (stat): a list takes state, type, tag, limit, cursor" });
  expect((await refusal("%3Cscript%3E=1")).message).toBe("Unknown query parameter: a list takes state, type, tag, limit, cursor");
  expect((await SELF.fetch(`${BASE}/jobs?state=failed&limit=5`, { headers: auth(token) })).status).toBe(200);
});

it("converges under many concurrent jobs and failing reports, losing none", async () => {
  const { token, list } = await freshOwner();
  const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => create(token, "demo", { intervalMs: 0 }, [`n${i % 3}`])));
  expect((await list("?limit=100")).jobs).toHaveLength(20); // admitted at create
  indexFaults.failing = true;
  try {
    await Promise.all(ids.map((id) => runToEnd(id)));
    // The objects crash before the index comes back: their memory of what they sent is gone.
    await abortAllDurableObjects();
  } finally {
    indexFaults.failing = false;
  }
  // The alarm each failure left armed retries the report (the restarted objects included).
  for (const id of ids) await runNextAlarm(id);
  await vi.waitFor(async () => {
    const { jobs, counts } = await list("?limit=100");
    expect(jobs.map((j) => j.state)).toEqual(Array(20).fill("succeeded"));
    expect(counts.succeeded).toBe(20);
  }, { timeout: 10_000, interval: 100 });
  for (const id of ids) expect((await snapshot(id)).state).toBe("succeeded");
});

it("leaves a job its index lists when the runtime dies while the index admits it, never a listing without a job", async () => {
  const { token, list } = await freshOwner();
  // The crash: the index has admitted the job, whose create never heard so.
  await crashWhile("admitHangs", () => postJson("/jobs", { type: "demo", input: { intervalMs: 0 } }, {}, token), async () => expect((await list()).jobs).toHaveLength(1));
  const id = (await list()).jobs[0]!.id;
  // The job's first alarm, stored with it, runs it; its reports keep the listing right.
  expect((await runToEnd(id)).state).toBe("succeeded");
  await vi.waitFor(async () => {
    const { jobs, counts } = await list();
    expect(jobs.map((j) => [j.id, j.state])).toEqual([[id, "succeeded"]]);
    expect(counts.queued).toBe(0);
  }, { timeout: 5_000 });
});

it("asks the index again when an admission's answer is lost (the index restarted after storing it): one job, listed once", async () => {
  const { token, list } = await freshOwner();
  const response = await createLosingAdmissions(token, 1);
  expect(response.status).toBe(201);
  const { id } = await response.json<CreatedJob>();
  expect((await list()).jobs.map((j) => j.id)).toEqual([id]);
  expect((await runToEnd(id)).state).toBe("succeeded");
});

it("tells the index of a cancel made during a long wait soon after a crash cut its report short, not at the wake", async () => {
  const { token, list } = await freshOwner();
  const id = await create(token, "sleepy", { duration: "1 day" });
  await runNextAlarm(id);
  await vi.waitFor(async () => expect((await list()).jobs[0]?.state).toBe("waiting"), { timeout: 5_000 });
  // The crash: the cancel is stored, its report to the index never arrived.
  await crashWhile("reportHangs", () => SELF.fetch(`${BASE}/jobs/${id}/cancel`, { method: "POST", headers: auth(token) }), async () => expect((await snapshot(id)).state).toBe("canceled"));
  expect((await list()).jobs[0]?.state).toBe("waiting");
  // The alarm that tells it again is due within a slice's watchdog, not a day later.
  expect(await alarmAt(id)).toBeLessThanOrEqual(clock.now() + 65_000);
  await runNextAlarm(id);
  await vi.waitFor(async () => {
    const { jobs, counts } = await list();
    expect(jobs.map((j) => j.state)).toEqual(["canceled"]);
    expect(counts.waiting).toBe(0);
  }, { timeout: 5_000 });
});

it("tells the index a job waits long soon after a crash cut that report short, not at the wake", async () => {
  const { token, list } = await freshOwner();
  const id = await create(token, "sleepy", { duration: "1 day" });
  // The crash: the wait is stored, the index never heard of it.
  await crashWhile("reportHangs", () => runDurableObjectAlarm(stubOf(id)), async () => expect((await snapshot(id)).state).toBe("waiting"));
  expect((await list()).jobs[0]?.state).toBe("queued");
  expect(await alarmAt(id)).toBeLessThanOrEqual(clock.now() + 65_000);
  await runNextAlarm(id);
  await vi.waitFor(async () => expect((await list()).jobs.map((j) => j.state)).toEqual(["waiting"]), { timeout: 5_000 });
  // Heard, the job's alarm is the wake's again.
  expect(await alarmAt(id)).toBeGreaterThan(clock.now() + 86_000_000);
});

it("finishes a delete that a crash cut short once its index heard of it: the job does not run on unlisted", async () => {
  const { token, list } = await freshOwner();
  const id = await create(token, "sleepy", { duration: "1 day" });
  await runNextAlarm(id);
  // The crash: the index dropped the job, whose storage was not yet erased.
  await crashWhile("removeHangs", () => SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: auth(token) }), async () => expect((await list()).jobs).toEqual([]));
  // Its alarm finishes the erase within a slice's watchdog, not at the wake a day later.
  expect(await alarmAt(id)).toBeLessThanOrEqual(clock.now() + 65_000);
  await runNextAlarm(id);
  expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(410);
  expect(await alarmAt(id)).toBeNull();
});

it("keeps a cancel's alarm, and a delete's none, made while the job told its index it waits long", async () => {
  for (const control of ["cancel", "delete"] as const) {
    const { name, token } = await freshOwner();
    const id = await create(token, "sleepy", { duration: "6 days" });
    await withHeldReports(name, async (release) => {
      // The slice ends into the wait and tells the index first: held.
      const slice = runDurableObjectAlarm(stubOf(id));
      await vi.waitFor(() => expect(indexFaults.heldReports).toHaveLength(1));
      const answer = control === "cancel"
        ? SELF.fetch(`${BASE}/jobs/${id}/cancel`, { method: "POST", headers: auth(token) })
        : SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: auth(token) });
      if (control === "cancel") {
        await vi.waitFor(() => expect(indexFaults.heldReports).toHaveLength(2));
        await release(1); // the cancel's report is answered first
      }
      expect((await answer).status).toBe(control === "cancel" ? 200 : 204);
      await release(0);
      await slice;
    });
    if (control === "cancel") {
      // Its retention's (1 day here), not the wait's end 6 days off.
      expect(await alarmAt(id)).toBeLessThanOrEqual(clock.now() + 86_400_000);
      expect((await snapshot(id)).state).toBe("canceled");
    } else {
      expect(await alarmAt(id)).toBeNull();
      expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(410);
    }
  }
});

it("does not run a job canceled while its alarm's first report after a restart was on its way", async () => {
  const { name, token } = await freshOwner();
  const id = await create(token, "demo", { intervalMs: 0 });
  // Restarted, the object no longer knows what its index has: its alarm reports first.
  await evictDurableObject(stubOf(id));
  await withHeldReports(name, async (release) => {
    const alarm = runDurableObjectAlarm(stubOf(id));
    await vi.waitFor(() => expect(indexFaults.heldReports).toHaveLength(1));
    const canceling = SELF.fetch(`${BASE}/jobs/${id}/cancel`, { method: "POST", headers: auth(token) });
    await vi.waitFor(() => expect(indexFaults.heldReports).toHaveLength(2));
    await release(1);
    expect((await canceling).status).toBe(200);
    indexFaults.holdReports = false; // what a job run on anyway would report
    await release(0);
    await alarm;
  });
  const after = await snapshot(id);
  expect(after).toMatchObject({ state: "canceled", startedAt: null });
  expect(states(await allEvents(id))).toEqual(["queued", "canceled"]);
  expect(await alarmAt(id)).toBe(after.expiresAt);
});

it("leaves no alarm behind for a job deleted while it told its index of its end", async () => {
  const { name, token } = await freshOwner();
  const id = await create(token, "demo", { intervalMs: 0 });
  await withHeldReports(name, async (release) => {
    // One slice runs it to its end, whose report is held.
    const slice = runDurableObjectAlarm(stubOf(id));
    await vi.waitFor(() => expect(indexFaults.heldReports).toHaveLength(1));
    expect((await SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: auth(token) })).status).toBe(204);
    await release(0);
    await slice;
  });
  expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(410);
  expect(await alarmAt(id)).toBeNull();
});

it("erases an expired job whose index could not be told at first, by an alarm of its own, not the platform's few retries", async () => {
  const { name, token } = await freshOwner();
  const id = await create(token, "demo", { intervalMs: 0 });
  const done = await runToEnd(id);
  clock.set(done.expiresAt! + 1); // the owner's JWT has expired too: its index is asked directly
  indexFaults.removeFails = true;
  try {
    await runDurableObjectAlarm(stubOf(id)); // does not throw
  } finally {
    indexFaults.removeFails = false;
  }
  // Kept for its alarm to erase (readers are told it is gone already: test/retention.test.ts).
  expect(await runInDurableObject(stubOf(id), (_, state) => state.storage.sql.exec("SELECT state FROM job").one().state)).toBe("succeeded");
  expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(410);
  const retry = await alarmAt(id);
  expect(retry).toBeGreaterThan(clock.now());
  expect(retry).toBeLessThanOrEqual(clock.now() + 60_000);
  await runNextAlarm(id);
  expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(410);
  expect(await alarmAt(id)).toBeNull();
  expect((await indexFor(env, name, id, 1).list({ limit: 10 })).jobs).toEqual([]);
});

it("keeps a job as it was when its index cannot be told of its delete (503): its expiry and alarm too, however many deletes at once", async () => {
  for (const deletes of [1, 2]) {
    const { token, list } = await freshOwner();
    const id = await create(token, "sleepy", { duration: "1 day" });
    await runNextAlarm(id);
    const wake = await alarmAt(id);
    indexFaults.removeFails = true;
    try {
      const responses = await Promise.all(Array.from({ length: deletes }, () => SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: auth(token) })));
      expect(responses.map((r) => r.status)).toEqual(responses.map(() => 503));
    } finally {
      indexFaults.removeFails = false;
    }
    expect(await snapshot(id)).toMatchObject({ state: "waiting", expiresAt: null });
    expect(await alarmAt(id)).toBe(wake);
    expect((await list()).jobs.map((j) => j.id)).toEqual([id]);
  }
});

/** A delete of the job whose removal from `owner`'s index waits while `meanwhile` runs, then fails (503). */
async function deleteFailingLate(id: string, owner: string, token: string, meanwhile: () => Promise<void>): Promise<void> {
  indexFaults.holdRemovals = true;
  try {
    const deleting = SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: auth(token) });
    await vi.waitFor(() => expect(indexFaults.heldRemovals).toHaveLength(1));
    await meanwhile();
    await runInDurableObject(indexShard(env, owner, 0) as unknown as DurableObjectStub, () => indexFaults.heldRemovals[0]!());
    expect((await deleting).status).toBe(503);
  } finally {
    indexFaults.holdRemovals = false;
    indexFaults.heldRemovals.length = 0;
  }
}

it("reads a job as it is while its delete waits on the index: one the index then cannot be told of goes on, never 410 and then 200 again", async () => {
  const { name, token } = await freshOwner();
  const headers = { "Idempotency-Key": `deleting-${crypto.randomUUID()}` };
  const createKeyed = () => postJson("/jobs", { type: "sleepy", input: { duration: "1 day" } }, headers, token);
  const id = (await (await createKeyed()).json<CreatedJob>()).id;
  await runNextAlarm(id);
  await deleteFailingLate(id, name, token, async () => {
    expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(200);
    expect((await createKeyed()).status).toBe(200); // its key's job, not "since deleted"
  });
  expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(200);
  expect(await snapshot(id)).toMatchObject({ state: "waiting", expiresAt: null });

  // One past its expiry (its alarm late) stays gone throughout such a delete.
  clock.set((await runToEnd(id)).expiresAt!);
  const { sign } = await import("hono/jwt");
  const later = await sign({ sub: name, exp: Math.floor(Date.now() / 1000) + 3600 }, TEST_SECRETS.JWT_SECRET, "HS256");
  await deleteFailingLate(id, name, later, async () => {
    expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(410);
  });
  expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(410);
});

it("costs the index two requests for a short job: its admission and its end", async () => {
  const { token } = await freshOwner();
  const owner = JSON.parse(atob(token.split(".")[1]!)).sub as string;
  const id = await create(token, "demo", { intervalMs: 0 });
  await runToEnd(id);
  const usage = await indexFor(env as Env, owner, id, 1).usage();
  expect(usage.requests).toBe(2);
  expect(usage.rowsWritten).toBeLessThanOrEqual(5);
});

it("drops a deleted job from its owner's list", async () => {
  const { token, list } = await freshOwner();
  const id = await create(token, "sleepy", { duration: "1 minute" });
  expect((await list()).jobs.map((j) => j.id)).toEqual([id]);
  const erased = await SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: auth(token) });
  expect(erased.status).toBe(204);
  expect((await list()).jobs).toEqual([]);
  expect((await list()).counts.queued).toBe(0);
});

it("forgets deleted jobs once the retention has passed, though the index sleeps between its few writes; its feed never counts back", async () => {
  const { name, token } = await freshOwner();
  const index = indexShard(env, name, 0) as unknown as DurableObjectStub;
  // Asked directly: the owner's JWT will have expired by then.
  const list = () => indexShard(env, name, 0).list({ limit: 20 });
  const rows = () => runInDurableObject(index, (_, state) => state.storage.sql.exec<{ state: string }>("SELECT state FROM jobs ORDER BY feed").toArray().map((row) => row.state));
  for (const id of [await create(token, "sleepy", { duration: "1 minute" }), await create(token, "sleepy", { duration: "1 minute" })]) {
    expect((await SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: auth(token) })).status).toBe(204);
  }
  expect(await rows()).toEqual(["removed", "removed"]);
  const { feed } = await list();
  clock.advance(86_400_000 + 1_000); // RETENTION is 1 day in the tests
  // It hibernated: an index wakes for a few writes or reads at a time, never 100 of them.
  await evictDurableObject(index);
  expect((await list()).jobs).toEqual([]);
  // The older removal is forgotten; the newest stays, as what the feed has counted to.
  expect(await rows()).toEqual(["removed"]);
  await evictDurableObject(index);
  expect((await list()).feed).toBe(feed);
});

it("refuses a deleted job's Idempotency-Key without listing or counting anything for it, and frees its slot", async () => {
  const app = createApp({ types: new JobRegistry(JOB_TYPES) });
  const deployment = { ...env, ...TEST_SECRETS, MAX_ACTIVE_JOBS: "1" } as Env;
  const { name, token, list } = await freshOwner();
  const post = (key: string) => app.request(`${BASE}/jobs`, {
    method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": key, ...auth(token) }, body: '{"type":"sleepy","input":{"duration":"1 minute"}}',
  }, deployment);
  const first = await (await post("k1")).json<CreatedJob>();
  expect((await SELF.fetch(`${BASE}/jobs/${first.id}`, { method: "DELETE", headers: auth(token) })).status).toBe(204);
  // Its key is spent (test/idempotency.test.ts): refused before the index is asked.
  expect((await post("k1")).status).toBe(409);
  // A create of that id that reached the index while the job was being deleted is refused
  // there too (the index keeps the removed id until its retention ends).
  const listing = listingOf({ id: first.id, type: "sleepy", tags: [], state: "queued", progress: null, error: null, createdAt: Date.now(), startedAt: null, finishedAt: null });
  expect(await indexFor(env as Env, name, first.id, 1).admit(listing, 10)).toBe("retired");
  const { jobs, counts } = await list();
  expect(jobs).toEqual([]);
  expect(counts.queued).toBe(0);
  // The deleted job's one active slot is free again.
  expect((await post("k2")).status).toBe(201);
});

it("caps an owner's active jobs (429 over it) and counts a job as active until it ends", async () => {
  const app = createApp({ types: new JobRegistry(JOB_TYPES) });
  const deployment = { ...env, ...TEST_SECRETS, MAX_ACTIVE_JOBS: "2" } as Env;
  const { token } = await freshOwner();
  const post = () => app.request(`${BASE}/jobs`, { method: "POST", headers: { "Content-Type": "application/json", ...auth(token) }, body: '{"type":"demo","input":{"intervalMs":0}}' }, deployment);
  const first = await (await post()).json<CreatedJob>();
  expect((await post()).status).toBe(201);
  const refused = await post();
  expect(refused.status).toBe(429);
  expect(await refused.json()).toMatchObject({ error: { code: "too_many_active_jobs" } });
  await runToEnd(first.id);
  await vi.waitFor(async () => expect((await post()).status).toBe(201), { timeout: 5_000 });
});

it("admits exactly as many of many creates at once as the cap has room for, and frees a slot only when a job ends", async () => {
  const { token, list } = await freshOwner();
  const post = sleepyCreates(token, 3);
  const answers = await Promise.all(Array.from({ length: 12 }, () => post()));
  expect(answers.map((r) => r.status).sort()).toEqual([...Array(3).fill(201), ...Array(9).fill(429)]);
  const { jobs, counts } = await list();
  expect(jobs).toHaveLength(3);
  expect(counts.queued).toBe(3);
  const ids = await Promise.all(answers.filter((r) => r.status === 201).map(async (r) => (await r.json<CreatedJob>()).id));
  // A cancel and a delete at once free two slots, once each.
  const freed = await Promise.all([
    SELF.fetch(`${BASE}/jobs/${ids[0]}/cancel`, { method: "POST", headers: auth(token) }),
    SELF.fetch(`${BASE}/jobs/${ids[1]}`, { method: "DELETE", headers: auth(token) }),
  ]);
  expect(freed.map((r) => r.status)).toEqual([200, 204]);
  const more = await Promise.all(Array.from({ length: 4 }, () => post()));
  expect(more.map((r) => r.status).sort()).toEqual([201, 201, 429, 429]);
  expect((await list()).counts).toMatchObject({ queued: 3, canceled: 1 });
});

it("says at the cap, with INDEX_SHARDS above 1, that a shard's share is full, not that the owner has the whole cap of active jobs", async () => {
  redeployed.vars = { INDEX_SHARDS: "4" }; // the job objects' own config, as the Worker's below
  try {
    const app = createApp({ types: new JobRegistry(JOB_TYPES) });
    const deployment = { ...env, ...TEST_SECRETS, MAX_ACTIVE_JOBS: "4", INDEX_SHARDS: "4" } as Env;
    const { token } = await freshOwner();
    const post = () => app.request(`${BASE}/jobs`, { method: "POST", headers: { "Content-Type": "application/json", ...auth(token) }, body: '{"type":"sleepy","input":{"duration":"1 minute"}}' }, deployment);
    let refused: Response | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const response = await post();
      if (response.status === 429) refused = response;
    }
    const list = await (await app.request(`${BASE}/jobs`, { headers: auth(token) }, deployment)).json<JobList>();
    const active = list.counts.queued + list.counts.running + list.counts.waiting;
    expect(active).toBeLessThanOrEqual(4); // often fewer: one shard of four filled first
    const { error } = await refused!.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe("too_many_active_jobs");
    expect(error.message).not.toContain("You have 4");
    expect(error.message).toContain("one owner may have 4, counted as 1 in each of the 4 shards of its job list");
  } finally {
    redeployed.vars = {};
  }
});

it("unmakes a job its index refuses at the cap: nothing is left at its id, and its Idempotency-Key makes it once there is room", async () => {
  const { token, list } = await freshOwner();
  const post = sleepyCreates(token, 1);
  const first = await (await post()).json<CreatedJob>();
  expect((await post({ "Idempotency-Key": "later" })).status).toBe(429);
  expect((await list()).jobs.map((j) => j.id)).toEqual([first.id]);
  expect((await SELF.fetch(`${BASE}/jobs/${first.id}/cancel`, { method: "POST", headers: auth(token) })).status).toBe(200);
  const second = await post({ "Idempotency-Key": "later" });
  expect(second.status).toBe(201);
  const { id } = await second.json<CreatedJob>();
  expect((await snapshot(id)).state).toBe("queued");
  await vi.waitFor(async () => expect((await list()).jobs.map((j) => j.id).sort()).toEqual([first.id, id].sort()));
});

it("admits a job only by its admission, however slow the index is to answer it: the cap holds", async () => {
  const { name, token, list } = await freshOwner();
  const post = sleepyCreates(token, 1);
  const first = await (await post()).json<CreatedJob>();
  await slowRefusedCreate(name, post);
  const { jobs, counts } = await list();
  expect(jobs.map((j) => j.id)).toEqual([first.id]);
  expect(counts.queued).toBe(1);
});

it("leaves no listing for a job its index refused after a slow admission, though a report of it was on its way", async () => {
  const { name, token, list } = await freshOwner();
  const post = sleepyCreates(token, 1);
  const first = await (await post()).json<CreatedJob>();
  await withHeldReports(name, async (release) => {
    await slowRefusedCreate(name, post);
    // Whatever the refused job had sent reaches the index after the refusal.
    for (let n = 0; n < indexFaults.heldReports.length; n++) await release(n);
  });
  const { jobs, counts } = await list();
  expect(jobs.map((j) => j.id)).toEqual([first.id]);
  expect(counts.queued).toBe(1);
});

it("answers keyed retries that waited on a refused admission only with a job that its index admitted", async () => {
  const { token, list } = await freshOwner();
  const post = sleepyCreates(token, 1);
  const first = await (await post()).json<CreatedJob>();
  // At the cap: the same create three times at once, each refused while the others wait on it.
  const answers = await Promise.all([1, 2, 3].map(() => post({ "Idempotency-Key": "at-the-cap" })));
  expect(answers.map((r) => r.status)).toEqual([429, 429, 429]);
  expect((await list()).jobs.map((j) => j.id)).toEqual([first.id]);
});

it("ends a job unrun when both asks of its admission lose their answers (503): listed as failed, never a listing without a job", async () => {
  const { token, list } = await freshOwner();
  const response = await createLosingAdmissions(token, 2);
  expect(response.status).toBe(503);
  expect(response.headers.get("Retry-After")).toBe("1");
  expect(await response.json()).toMatchObject({ error: { code: "unavailable" } });
  const id = (await list()).jobs[0]!.id;
  expect(await snapshot(id)).toMatchObject({ state: "failed", error: { code: "not_admitted" }, startedAt: null });
  await vi.waitFor(async () => {
    const { jobs, counts } = await list();
    expect(jobs.map((j) => [j.id, j.state])).toEqual([[id, "failed"]]);
    expect(counts.queued).toBe(0);
  }, { timeout: 5_000 });
  // Its alarm does not run it; deleted, it leaves the list.
  await runDurableObjectAlarm(stubOf(id));
  expect((await snapshot(id)).startedAt).toBeNull();
  expect((await SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: auth(token) })).status).toBe(204);
  expect((await list()).jobs).toEqual([]);
});

it("tells a keyed create whose admission was lost that a retry needs a new Idempotency-Key (the key's job is the unrun one)", async () => {
  const { token } = await freshOwner();
  const key = { "Idempotency-Key": "lost-admission" };
  const response = await createLosingAdmissions(token, 2, key);
  expect(response.status).toBe(503);
  expect((await response.json() as ApiError).error.message).toMatch(/new Idempotency-Key/);
  const again = await postJson("/jobs", { type: "demo", input: { intervalMs: 0 } }, key, token);
  expect(again.status).toBe(200);
  const { id } = await again.json() as CreatedJob;
  expect(await snapshot(id)).toMatchObject({ state: "failed", error: { code: "not_admitted", message: expect.stringMatching(/new Idempotency-Key/) } });
  const fresh = await postJson("/jobs", { type: "demo", input: { intervalMs: 0 } }, { "Idempotency-Key": "a-new-key" }, token);
  expect(fresh.status).toBe(201);
});

/** A create (`headers` beside the owner's) whose job's object is reset while the index decides its admission, as by a deploy or a crash: its answer, and the job's id. */
async function createCutByReset(owner: string, token: string, headers: Record<string, string> = {}): Promise<{ response: Response; id: string }> {
  let cut!: { response: Response; id: string };
  await withHeldAdmissions(owner, async () => {
    const answer = postJson("/jobs", { type: "demo", input: { intervalMs: 0 } }, headers, token);
    await vi.waitFor(() => expect(indexFaults.heldAdmissions).toHaveLength(1));
    const id = indexFaults.heldIds[0]!;
    // The platform's error then says so (`durableObjectReset`).
    await runInDurableObject(stubOf(id), (_object, state) => state.abort("reset")).catch(() => {});
    cut = { response: await answer, id };
  });
  return cut;
}

it("answers a create cut off by a reset of its object (while the index decides) 503 with Retry-After, not 500; the retry with its key finds the job", async () => {
  const { name, token } = await freshOwner();
  const key = { "Idempotency-Key": "cut-off" };
  const { response } = await createCutByReset(name, token, key);
  expect(response.status).toBe(503);
  expect(response.headers.get("Retry-After")).toBe("1");
  expect((await response.json<ApiError>()).error).toMatchObject({ code: "unavailable", message: expect.stringMatching(/same Idempotency-Key finds it/) });
  const retried = await postJson("/jobs", { type: "demo", input: { intervalMs: 0 } }, key, token);
  expect([200, 201]).toContain(retried.status);
});

it("tells a create without a key, cut off by a reset of its object, its job's id: the job may be made and run, and a blind retry would make a second", async () => {
  const { name, token, list } = await freshOwner();
  vi.spyOn(console, "error").mockImplementation(() => {});
  const { response, id } = await createCutByReset(name, token);
  expect(response.status).toBe(503);
  expect(response.headers.get("Retry-After")).toBe("1");
  expect((await response.json<ApiError>()).error).toMatchObject({ code: "unavailable", message: expect.stringContaining(`GET /jobs/${id}`) });
  // It was made: its alarm runs it and lists it.
  expect((await runToEnd(id)).state).toBe("succeeded");
  expect((await list()).jobs.map((j) => j.id)).toEqual([id]);
  // The refusal carried the job's control token (an anonymous creator has no other way to it): it deletes the job.
  const controlToken = response.headers.get("Control-Token");
  expect(controlToken).toMatch(/^\S{20,}$/);
  expect((await SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: { "Control-Token": controlToken! } })).status).toBe(204);
});

it("gives a browser whose form post was cut off by a reset of its object the job's control cookie with its 503 page, as its 303 would have", async () => {
  const { name, token } = await freshOwner();
  vi.spyOn(console, "error").mockImplementation(() => {});
  let cut!: { response: Response; id: string };
  await withHeldAdmissions(name, async () => {
    const answer = SELF.fetch(`${BASE}/jobs`, {
      method: "POST", redirect: "manual",
      headers: { ...auth(token), Accept: "text/html", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ type: "demo", input: JSON.stringify({ intervalMs: 0 }) }).toString(),
    });
    await vi.waitFor(() => expect(indexFaults.heldAdmissions).toHaveLength(1));
    const id = indexFaults.heldIds[0]!;
    await runInDurableObject(stubOf(id), (_object, state) => state.abort("reset")).catch(() => {});
    cut = { response: await answer, id };
  });
  const { response, id } = cut;
  expect(response.status).toBe(503);
  expect(response.headers.get("Content-Type")).toMatch(/text\/html/);
  // The page's browser cannot read a Control-Token header: its right to cancel is the cookie, scoped to the job.
  const cookie = response.headers.getSetCookie().find((c) => c.includes(`Path=/jobs/${id}`));
  expect(cookie).toBeDefined();
  expect((await runToEnd(id)).state).toBe("succeeded");
  const erased = await SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: { Cookie: cookie!.split(";")[0]! } });
  expect(erased.status).toBe(204);
});

it("logs a request cut off by a reset of its object, which it answers 503: a fault that resets the object on every try must still show", async () => {
  const { name, token } = await freshOwner();
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  const { response } = await createCutByReset(name, token);
  expect(response.status).toBe(503);
  expect(logged).toHaveBeenCalledWith(expect.stringMatching(/reset/), expect.objectContaining({ durableObjectReset: true }));
});

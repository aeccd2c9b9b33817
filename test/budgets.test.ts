// Every job runs within a budget (steps, events, bytes stored, run time). Past one it
// fails with limit_exceeded naming the limit; what a request asks for up front is
// checked at create. Anonymous visitors get the tighter public budget.
import { expect, it } from "vitest";
import type { JobSnapshot } from "../src/protocol";
import { SELF } from "cloudflare:test";
import { allEvents, allSteps, auth, BASE, createJob, expectGapFree, postJson, runToEnd, states, useVirtualClock } from "./helpers";

useVirtualClock();

async function expectLimitFailure(id: string, limit: string): Promise<JobSnapshot> {
  const done = await runToEnd(id);
  expect(done.state).toBe("failed");
  expect(done.error).toMatchObject({ code: "limit_exceeded", limit, message: expect.stringContaining(`${limit} budget`) });
  // The end is always recorded, past the budget if need be.
  const events = await allEvents(id);
  expectGapFree(events);
  expect(states(events).at(-1)).toBe("failed");
  expect(events.at(-1)).toMatchObject({ type: "error", data: { code: "limit_exceeded", limit } });
  return done;
}

it("fails a job that starts more steps than its budget", async () => {
  const done = await expectLimitFailure(await createJob("test-tight", { steps: 8 }), "steps");
  expect(done.steps.total).toBe(5);
  expect(done.budget).toMatchObject({ steps: 5, events: 40, bytes: 20_000, runTimeMs: 60_000 });
});

it("fails a job that stores more events than its budget, step events included", async () => {
  const id = await createJob("test-tight", { steps: 2, logs: 100 });
  await expectLimitFailure(id, "events");
  // 40 in the budget, and the job's end past it: the step it was in (canceled), a state and the error.
  const events = await allEvents(id);
  expect(events.length).toBeLessThanOrEqual(43);
  expect(events.slice(-3).map((e) => e.type === "step" ? `step:${e.data.status}` : e.type)).toEqual(["step:canceled", "state", "error"]);
});

it("fails a job that stores more bytes than its budget", async () => {
  await expectLimitFailure(await createJob("test-tight", { logs: 30, logSize: 2_000 }), "bytes");
  await expectLimitFailure(await createJob("test-tight", { resultSize: 30_000 }), "bytes");
});

it("refuses up front a timeout over the run-time budget, and input whose needs are over it (400, naming the limit)", async () => {
  const timeout = await postJson("/jobs", { type: "test-tight", timeoutMs: 120_000 });
  expect(timeout.status).toBe(400);
  expect(await timeout.json()).toMatchObject({ error: { code: "limit_exceeded", message: expect.stringContaining("runTimeMs") } });
  const primes = await postJson("/jobs", { type: "primes", input: { n: 1_000_000_000, segment: 1_000 } });
  expect(primes.status).toBe(400);
  expect(await primes.json()).toMatchObject({ error: { code: "limit_exceeded", message: "Over the steps limit: this \"primes\" input needs 1,000,000 steps; the limit is 20,000" } });
});

it("serves the start page when a type's inputHints throws, that type without hints", async () => {
  const page = await SELF.fetch(`${BASE}/?type=test-tight`, { headers: { Accept: "text/html", ...auth() } });
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toMatch(/<option value="test-tight"[^>]*data-hints="\{\}"/);
  expect(html).toMatch(/<option value="primes"[^>]*data-hints="\{&quot;n&quot;/); // the others keep theirs
});

it("gives anonymous visitors the public budget", async () => {
  const asStranger = { "CF-Connecting-IP": "198.51.100.200" };
  const refused = await postJson("/jobs", { type: "primes", input: { n: 1_000_000_000 } }, asStranger, null);
  expect(refused.status).toBe(400);
  expect(await refused.json()).toMatchObject({ error: { code: "limit_exceeded", message: expect.stringContaining("the limit is 200") } });
  // A nap past the public run time (10 minutes) is refused up front too.
  const nap = await postJson("/jobs", { type: "sleepy", input: { duration: "29 days" } }, asStranger, null);
  expect(nap.status).toBe(400);
  expect(await nap.json()).toMatchObject({ error: { code: "limit_exceeded", message: expect.stringContaining("runTimeMs") } });
  const created = await postJson("/jobs", { type: "demo" }, asStranger, null);
  const { id } = await created.json<{ id: string }>();
  const done = await runToEnd(id);
  expect(done.budget).toEqual({ steps: 200, events: 2_000, bytes: 1 << 20, runTimeMs: 600_000 });
  expect(done.deadlineAt - done.createdAt).toBe(600_000);
  // An owner may run it.
  expect((await postJson("/jobs", { type: "primes", input: { n: 1_000_000_000 } })).status).toBe(201);
});

it("keeps the snapshot small for a job of 1,500 steps, and pages through the steps", async () => {
  // Listed whole, 1,500 steps would be some 200 KB, fifty times the bound; their list is
  // three full pages (MAX_STEP_PAGE is 500), the last ending the list.
  const id = await createJob("test-many-steps", { steps: 1_500 });
  const done = await runToEnd(id, 100);
  expect(done.result).toEqual({ sum: 1_500 });
  const size = JSON.stringify(done).length;
  expect(size).toBeLessThan(4_000);
  expect(done.steps).toMatchObject({ total: 1_500, counts: { succeeded: 1_500 }, retries: 0, current: null });
  expect(done.steps.recent.map((s) => s.name)).toEqual(["s1495", "s1496", "s1497", "s1498", "s1499"]);
  const steps = await allSteps(id);
  expect(steps.map((s) => s.position)).toEqual(steps.map((_, i) => i));
  expect(steps).toHaveLength(1_500);
  expect(steps[1234]).toMatchObject({ name: "s1234", state: "succeeded", attempts: 1 });
});

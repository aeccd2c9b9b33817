// RPC for Workers of the same account: a service binding to the JobsRpc entrypoint acts
// as one owner at a time, with the HTTP API's operations and rules.
import { env } from "cloudflare:test";
import { expect, expectTypeOf, it } from "vitest";
import type { JOB_TYPES } from "../app/jobs";
import type { JobTypesOf } from "../src/authoring";
import type { JobsApi, RpcCreated } from "../src/rpc";
import { runToEnd, snapshot, useVirtualClock } from "./helpers";

useVirtualClock();

/**
 * The message an RPC call was refused with. Awaited here rather than handed to
 * `expect(...).rejects`: an RPC promise pipelines every property read, and the matcher's
 * reads would become calls that reject unhandled.
 */
async function refusal(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    return (error as Error).message;
  }
  return "(not refused)";
}

it("creates, reads, lists, cancels and deletes jobs as one owner", async () => {
  const owner = `rpc-${crypto.randomUUID().slice(0, 8)}`;
  const jobs = await env.JOBS_API.forOwner(owner);
  const created = await jobs.create({ type: "demo", input: { intervalMs: 0 }, tags: ["rpc"] });
  expect(created).toMatchObject({ state: "queued", created: true, controlToken: expect.any(String) });
  const again = await jobs.create({ type: "demo", input: { intervalMs: 0 }, tags: ["rpc"], idempotencyKey: "k1" });
  const retried = await jobs.create({ type: "demo", input: { intervalMs: 0 }, tags: ["rpc"], idempotencyKey: "k1" });
  expect(retried).toMatchObject({ id: again.id, created: false, controlToken: null });
  await runToEnd(created.id);
  const done = await jobs.get(created.id);
  expect(done).toMatchObject({ state: "succeeded", result: { messages: 3 }, usage: { alarms: 3 } });
  expect((await jobs.events(created.id, 0, 5))?.events).toHaveLength(5);
  const steps = await jobs.steps(created.id, 1, 2);
  expect(steps).toMatchObject({ total: 6, next: 3 });
  expect(steps?.steps.map((step) => [step.position, step.name, step.state])).toEqual([[2, "pause-2", "succeeded"], [3, "message-2", "succeeded"]]);
  expect(await refusal(jobs.steps(created.id, -2))).toMatch(/^invalid_query: /);
  expect(await refusal(jobs.steps(created.id, -1, 0))).toMatch(/^invalid_query: /);
  const list = await jobs.list({ tag: "rpc", limit: 10 });
  expect(list.jobs.map((j) => j.id).sort()).toEqual([created.id, again.id].sort());
  expect((await jobs.cancel(again.id)).state).toBe("canceled");
  await jobs.delete(created.id);
  expect(await jobs.get(created.id)).toBeNull();
  expect(await jobs.steps(created.id)).toBeNull();
});

it("keeps the owner rules: validation, control of its own jobs only, clear refusals", async () => {
  const alice = await env.JOBS_API.forOwner(`rpc-a-${crypto.randomUUID().slice(0, 6)}`);
  const bob = await env.JOBS_API.forOwner(`rpc-b-${crypto.randomUUID().slice(0, 6)}`);
  const { id } = await alice.create({ type: "sleepy", input: { duration: "1 minute" } });
  expect(await refusal(bob.cancel(id))).toMatch(/^forbidden: /);
  expect(await refusal(bob.delete(id))).toMatch(/^forbidden: /);
  expect((await bob.get(id))?.usage).toBeUndefined(); // a job id is still a watch capability
  // The issues come with the code, as over HTTP: which field, and why.
  expect(await refusal(alice.create({ type: "flaky", input: { fatal2: true } }))).toMatch(/^invalid_input: .*\(fatal2: Unknown field\)$/);
  expect(await refusal(alice.create({ type: "flaky", input: { failures: "2" } }))).toMatch(/^invalid_input: .*\(failures: Invalid type: Expected number/);
  expect(await refusal(alice.create({ type: "nope" }))).toMatch(/^unknown_type: /);
  // A webhook is asked for as over HTTP (this deployment has no WEBHOOK_SECRET).
  expect(await refusal(alice.create({ type: "echo", input: { lines: ["a"] }, webhook: { url: "https://hooks.example/jobs" } }))).toMatch(/^webhooks_off: /);
  expect(await refusal(alice.get("x".repeat(32)))).toMatch(/^not_found: /);
  expect(await refusal(env.JOBS_API.forOwner("a=b"))).toMatch(/^invalid_owner: /);
  // Pages are asked for as GET /jobs/:id/events asks: whole numbers in range (a NaN since gave a page whose nextSince was null; a NaN limit, no limit).
  for (const [since, limit] of [[NaN, 5], [0, NaN], [1.5, 5], [0, 2.5], [-1, 5], [0, 0], [0, 1_001], [Infinity, 5]]) {
    expect(await refusal(alice.events(id, since, limit)), `${since}, ${limit}`).toMatch(/^invalid_query: /);
  }
  expect((await alice.events(id, 0, 1))?.events).toHaveLength(1);
  expect(await refusal(alice.list(null as never))).toMatch(/^invalid_query: /);
  // A filter it does not know, as GET /jobs refuses one (a typo would list every job).
  expect(await refusal(alice.list({ stat: "failed" } as never))).toMatch(/^invalid_query: Unknown query parameter \(stat\)/);
  expect((await snapshot(id)).state).toBe("queued");
});

it("checks creates against the job types it is given, as the typed client does", async () => {
  // As a caller's Env declares it (this test's Env has the untyped JobsApi).
  const typed = env.JOBS_API as unknown as JobsApi<JobTypesOf<typeof JOB_TYPES>>;
  const jobs = await typed.forOwner(`rpc-t-${crypto.randomUUID().slice(0, 6)}`);
  const created = await jobs.create({ type: "demo", input: { intervalMs: 0 } });
  expectTypeOf(created).toEqualTypeOf<RpcCreated>();
  expect((await jobs.create({ type: "demo" })).state).toBe("queued"); // every field of demo's input is optional
  // What the types refuse, the deployment refuses too.
  // @ts-expect-error not one of the given types
  expect(await refusal(jobs.create({ type: "nope" }))).toMatch(/^unknown_type: /);
  // @ts-expect-error primes' `n` is a number
  expect(await refusal(jobs.create({ type: "primes", input: { n: "many" } }))).toMatch(/^invalid_input: /);
  // @ts-expect-error primes needs its input
  expect(await refusal(jobs.create({ type: "primes" }))).toMatch(/^invalid_input: /);
  // Untyped, as before: any type, JSON input.
  const loose = await env.JOBS_API.forOwner(`rpc-u-${crypto.randomUUID().slice(0, 6)}`);
  expect(await refusal(loose.create({ type: "nope", input: { any: ["json"] } }))).toMatch(/^unknown_type: /);
});

// A deploy that changes job code while jobs are mid-run: each test runs a slice under one
// version of the "test-deployed" type's code (test/fixtures/jobs.ts), then swaps the code
// and evicts the object, as a deploy does, and runs the rest under the new version.
import { evictDurableObject } from "cloudflare:test";
import * as v from "valibot";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { RunContext } from "../src/jobs/define";
import { waitingForType } from "../src/job/retry";
import { deployedCode, redeployed } from "./fixtures/jobs";
import { allEvents, allSteps, alarmAt, clock, createJob, runNextAlarm, runToEnd, snapshot, states, stubOf, useVirtualClock } from "./helpers";

useVirtualClock();
beforeEach(() => {
  deployedCode.input = v.object({});
});
afterEach(() => {
  redeployed.vars = {};
  redeployed.removedTypes = [];
});

type Run = (ctx: RunContext<any>) => Promise<unknown>;

/** The next version of the code reaches the job's object. */
async function deploy(id: string, run: Run): Promise<void> {
  deployedCode.run = run;
  await evictDurableObject(stubOf(id));
}

it("fails a job whose run throws before it returns its promise (a function that is not async), at once, with the error", async () => {
  deployedCode.run = async ({ step }) => step.sleep("nap", "1 minute");
  const id = await createJob("test-deployed");
  await runNextAlarm(id);
  // The new code reads a field the stored input never had, in a plain (not async) function.
  await deploy(id, (({ input }: RunContext<any>) => Promise.resolve(input.items.length)) as Run);
  await runNextAlarm(id);
  const done = await snapshot(id);
  expect(done.state).toBe("failed");
  expect(done.error).toMatchObject({ code: "run_failed", name: "TypeError" });
  expect(done.error!.message).toMatch(/items|length/);
  expect(await alarmAt(id)).not.toBeNull(); // retention's
  expect(states(await allEvents(id))).toEqual(["queued", "running", "waiting", "running", "failed"]);
});

// Code reaches Durable Objects a little after Workers (seconds to minutes), and a gradual
// deployment keeps some objects on the old version until it ends: a Worker that has a new
// type can make a job whose object does not have it yet.
it("a new job whose object does not have its type yet (a deploy under way) waits queued, and runs once the type reaches it", async () => {
  deployedCode.run = async ({ step }) => step.do("work", () => "done");
  redeployed.removedTypes = ["test-deployed"]; // the object's version; the Worker has the type
  const id = await createJob("test-deployed");
  for (let i = 0; i < 3; i++) expect(await runNextAlarm(id)).toBe(true);
  const waiting = await snapshot(id);
  expect(waiting.state).toBe("queued");
  expect(waiting.error).toBeNull();
  expect(await alarmAt(id)).not.toBeNull();
  // Its viewers are told why it stays queued, once, however many looks it takes.
  const told = (await allEvents(id)).filter((event) => event.type === "log");
  expect(told.map((event) => event.data)).toEqual([{ level: "warn", message: waitingForType("test-deployed") }]);
  expect(waitingForType("test-deployed")).toMatch(/^Job type "test-deployed" has not reached this job's Durable Object yet/);

  redeployed.removedTypes = [];
  await evictDurableObject(stubOf(id));
  const done = await runToEnd(id);
  expect(done.state).toBe("succeeded");
  expect(done.result).toBe("done");
  expect(states(await allEvents(id))).toEqual(["queued", "running", "succeeded"]);
});

it("a new job whose type never reaches its object fails before its deadline with unknown_type, after a bounded number of checks", async () => {
  redeployed.removedTypes = ["test-deployed"];
  const createdAt = clock.now();
  const id = await createJob("test-deployed", {}, { timeoutMs: 3_600_000 });
  let looks = 0;
  while ((await snapshot(id)).state === "queued") {
    expect(await runNextAlarm(id)).toBe(true);
    expect(++looks).toBeLessThan(30);
  }
  const done = await snapshot(id);
  expect(done.state).toBe("failed");
  expect(done.error).toMatchObject({ code: "unknown_type" });
  expect(done.error!.message).toContain('"test-deployed"');
  expect(done.error!.message).not.toContain("no longer");
  expect(done.finishedAt! - createdAt).toBeGreaterThan(50 * 60_000);
  expect(done.finishedAt!).toBeLessThan(done.deadlineAt);
});

it("a job that ran and whose type a deploy removed fails at its next alarm with unknown_type naming the type", async () => {
  deployedCode.run = async ({ step }) => step.sleep("nap", "1 hour");
  const id = await createJob("test-deployed", {}, { timeoutMs: 86_400_000 });
  await runNextAlarm(id);
  redeployed.removedTypes = ["test-deployed"];
  await evictDurableObject(stubOf(id));
  const done = await runToEnd(id, 2);
  expect(done.error).toEqual({ code: "unknown_type", message: 'Job type "test-deployed" is no longer registered' });
  expect(done.steps.recent).toMatchObject([{ name: "nap", state: "canceled" }]);
});

it("a run whose step names change on every replay (made from Date.now()) ends at its steps budget, with an error that says why", async () => {
  deployedCode.run = async ({ step }) => {
    for (let i = 0; i < 1_000; i++) {
      await step.do(`tick-${i}-${Date.now()}`, () => i);
      await step.sleep(`nap-${i}`, "1 second");
    }
  };
  const id = await createJob("test-deployed");
  const done = await runToEnd(id, 50);
  expect(done.error).toMatchObject({ code: "limit_exceeded", limit: "steps" });
  expect(done.error!.message).toMatch(/^The job exceeded its steps budget \(100\); \d+ steps recorded before this run were not reached by it/);
  expect(done.error!.message).toContain("Date.now()");
});

it("a job that simply needs more steps than its budget gets the budget's error alone", async () => {
  deployedCode.run = async ({ step }) => {
    for (let i = 0; i < 1_000; i++) await step.do(`tick-${i}`, () => i);
  };
  const id = await createJob("test-deployed");
  expect((await runToEnd(id, 50)).error).toEqual({ code: "limit_exceeded", limit: "steps", message: "The job exceeded its steps budget (100)" });
});

// What the README promises a developer who changes a type's code (see "Changing a job
// type's code"): steps are found by name; what is stored stays as it was.
it("steps are found by name: a renamed or inserted step runs, finished ones return what they stored, and one the new code never reaches reads canceled at the end", async () => {
  const ran: string[] = [];
  const work = (name: string, value: unknown) => () => (ran.push(name), value) as never;
  deployedCode.run = async ({ step }) => {
    await step.do("load", work("load", { rows: 2 }));
    await step.sleep("pause", "1 minute");
    await step.do("send", work("send", 1));
  };
  const id = await createJob("test-deployed");
  await runNextAlarm(id);
  expect(ran.splice(0)).toEqual(["load"]);

  await deploy(id, async ({ step }) => {
    await step.do("check", work("check", true)); // inserted before finished steps
    const loaded = await step.do("load", work("load", { rows: 99, shape: "new" }));
    await step.sleep("pause-longer", "1 minute"); // renamed while it slept
    await step.do("deliver", work("deliver", 2)); // renamed: runs under its new name
    return loaded;
  });
  const done = await runToEnd(id);
  expect(ran).toEqual(["check", "deliver"]);
  expect(done.state).toBe("succeeded");
  expect(done.result).toEqual({ rows: 2 }); // the stored result, in the old shape
  const names = Object.fromEntries((await allSteps(id)).map((s) => [s.name, s.state]));
  expect(names).toEqual({ load: "succeeded", pause: "canceled", check: "succeeded", "pause-longer": "succeeded", deliver: "succeeded" });
});

it("a sleep or a retry already waiting keeps the time it was given; the new retry options apply from the next attempt", async () => {
  deployedCode.run = async ({ step }) => {
    await step.sleep("nap", "30 minutes");
    await step.do("call", { retries: { limit: 5, delay: "1 hour", backoff: "constant" } }, () => {
      throw new Error("down");
    });
  };
  const id = await createJob("test-deployed", {}, { timeoutMs: 86_400_000 });
  const createdAt = clock.now();
  await runNextAlarm(id);
  await deploy(id, async ({ step }) => {
    await step.sleep("nap", "1 minute");
    await step.do("call", { retries: { limit: 5, delay: "1 hour", backoff: "constant" } }, () => {
      throw new Error("down");
    });
  });
  await runNextAlarm(id);
  expect(clock.now() - createdAt).toBeGreaterThanOrEqual(30 * 60_000);
  const retrying = (await snapshot(id)).steps.current!;
  expect(retrying).toMatchObject({ name: "call", state: "waiting", attempts: 1 });

  await deploy(id, async ({ step }) => step.do("call", { retries: { limit: 0 } }, () => {
    throw new Error("still down");
  }));
  expect(await alarmAt(id)).toBe(retrying.until);
  const done = await runToEnd(id);
  expect(done.error).toMatchObject({ code: "step_failed", step: "call", message: 'Step "call" failed: still down' });
  expect(done.steps.recent).toMatchObject([{ name: "nap" }, { name: "call", attempts: 2 }]);
});

it("a job keeps the input and the budget it was made with: a new schema's default and a lower JOB_BUDGET do not reach it", async () => {
  deployedCode.input = v.object({ n: v.number() });
  deployedCode.run = async ({ step }) => step.sleep("nap", "1 minute");
  const id = await createJob("test-deployed", { n: 2, ignored: true });
  await runNextAlarm(id);
  redeployed.vars = { JOB_BUDGET: "steps=1" };
  deployedCode.input = v.object({ n: v.number(), factor: v.optional(v.number(), 3) });
  await deploy(id, async ({ input, step }) => {
    await step.sleep("nap", "1 minute");
    await step.do("more", () => 1);
    return { input, factor: input.factor ?? "absent" };
  });
  const done = await runToEnd(id);
  expect(done.result).toEqual({ input: { n: 2 }, factor: "absent" });
  expect(done.budget.steps).toBe(100);
});

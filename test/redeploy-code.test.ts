// A deploy that changes job code while jobs are mid-run: each test runs a slice under one
// version of the "test-deployed" type's code (test/fixtures/jobs.ts), then swaps the code
// and evicts the object, as a deploy does, and runs the rest under the new version.
import { evictDurableObject } from "cloudflare:test";
import * as v from "valibot";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { RunContext } from "../src/jobs/define";
import { deployedCode, redeployed } from "./fixtures/jobs";
import { allEvents, alarmAt, clock, createJob, runNextAlarm, runToEnd, snapshot, states, stubOf, useVirtualClock } from "./helpers";

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

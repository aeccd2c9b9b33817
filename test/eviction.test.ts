// Durability: an object evicted between steps, or crashed in the middle of one, resumes from
// storage and ends with the same result.
import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { openGate, runCount } from "./fixtures/jobs";
import { allEvents, createJob, expectGapFree, runNextAlarm, runToEnd, snapshot, stepStatuses, stubOf, useVirtualClock } from "./helpers";

useVirtualClock();

it("resumes after eviction between steps with the same result", async () => {
  const reference = await runToEnd(await createJob("test-counter", { steps: 3, sleepMs: 5_000 }));
  const id = await createJob("test-counter", { steps: 3, sleepMs: 5_000 });
  for (let i = 0; i < 3; i++) {
    await runNextAlarm(id);
    await evictDurableObject(stubOf(id));
  }
  const done = await runToEnd(id);
  expect(done.result).toEqual(reference.result);
  for (let i = 1; i <= 3; i++) expect(runCount(id, `step-${i}`)).toBe(1);
  expectGapFree(await allEvents(id));
});

// evictDurableObject waits for in-flight work, so a crash mid-step is an abort.
it("re-runs a step interrupted by a crash as its next attempt, never a finished one", async () => {
  const id = await createJob("test-gate");
  const stub = stubOf(id);
  const interrupted = runDurableObjectAlarm(stub).catch((error: unknown) => error);
  await vi.waitFor(() => expect(runCount(id, "wait")).toBe(1));
  await abortAllDurableObjects();
  expect(await interrupted).toBeInstanceOf(Error);
  expect((await snapshot(id)).steps.current).toMatchObject({ name: "wait", state: "running", attempts: 1 });
  openGate(id);
  const done = await runToEnd(id); // the watchdog alarm armed before the slice brings it back
  expect(done.state).toBe("succeeded");
  expect(done.result).toEqual({ attempt: 2 });
  expect(runCount(id, "wait")).toBe(2);
  expect(runCount(id, "after")).toBe(1);
  const events = await allEvents(id);
  expect(stepStatuses(events, "wait")).toEqual(["wait:started:1", "wait:started:2", "wait:succeeded:2"]);
  expectGapFree(events);
});

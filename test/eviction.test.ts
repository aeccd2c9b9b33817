// Durability: an object evicted between steps, or crashed in the middle of one, resumes from
// storage and ends with the same result.
import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { openGate, runCount } from "./fixtures/jobs";
import { allEvents, BASE, createJob, expectGapFree, runNextAlarm, runToEnd, snapshot, states, stepStatuses, stubOf, useVirtualClock } from "./helpers";
import { openSocket } from "./live-helpers";

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

// The start of a step is durable before its body runs, not only held back by the output
// gate: a body that resets its object before its first await (past a CPU or memory limit)
// comes back as its next attempt, so such a step runs out of retries rather than for ever.
it("re-runs a step that reset its object before its first await as its next attempt", async () => {
  const id = await createJob("test-killer");
  expect(await runDurableObjectAlarm(stubOf(id)).catch((error: unknown) => error)).toBeInstanceOf(Error);
  expect(runCount(id, "kill")).toBe(1);
  expect((await snapshot(id)).steps.current).toMatchObject({ name: "kill", state: "running", attempts: 1 });
  const done = await runToEnd(id);
  expect(done.result).toEqual({ attempt: 2 });
  expect(runCount(id, "kill")).toBe(2);
  expect(stepStatuses(await allEvents(id), "kill")).toEqual(["kill:started:1", "kill:started:2", "kill:succeeded:2"]);
});

// The object sleeps through a long wait while its subscribers stay connected; it wakes
// for the next slice, whose first write is the first thing its fan-out sees.
it("a subscriber that watches through a long wait, while the object sleeps, gets every event in order, the wait's own first", async () => {
  const id = await createJob("test-counter", { steps: 2, sleepMs: 60_000 });
  const socket = await openSocket(id);
  // Read as it comes, as curl does: its object waits for it to read what a stream it hands off holds.
  const text = (await SELF.fetch(`${BASE}/jobs/${id}/stream`)).text();
  await runNextAlarm(id);
  // Published before the wait, not with whatever comes after it.
  await vi.waitFor(() => expect(states(socket.events())).toEqual(["queued", "running", "waiting"]));
  await evictDurableObject(stubOf(id));
  await runNextAlarm(id);
  await vi.waitFor(() => expect(states(socket.events())).toEqual(["queued", "running", "waiting", "running", "waiting"]));
  await evictDurableObject(stubOf(id));
  await runToEnd(id);
  expect((await socket.closed).code).toBe(1000);
  const all = await allEvents(id);
  expect(states(all)).toEqual(["queued", "running", "waiting", "running", "waiting", "running", "succeeded"]);
  expect(socket.events()).toEqual(all);
  // The snapshot's line, then one line per event.
  expect((await text).trimEnd().split("\n")).toHaveLength(1 + all.length);
});

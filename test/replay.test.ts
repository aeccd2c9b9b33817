// Replay re-runs `run` from the top on every alarm; a finished step never runs again
// and its logs are not published twice.
import { expect, it } from "vitest";
import { runCount } from "./fixtures/jobs";
import { allEvents, createJob, expectGapFree, runNextAlarm, runToEnd, snapshot, useVirtualClock } from "./helpers";

useVirtualClock();

it("runs each finished step exactly once across many alarms", async () => {
  const id = await createJob("test-counter", { steps: 4, sleepMs: 60_000 });
  const done = await runToEnd(id);
  expect(done.result).toEqual({ sum: 10 });
  for (let i = 1; i <= 4; i++) expect(runCount(id, `step-${i}`)).toBe(1);
  const events = await allEvents(id);
  expectGapFree(events);
  const logs = events.flatMap((e) => (e.type === "log" ? [e.data.message] : []));
  expect(logs).toEqual(["starting", "after step 1", "after step 2", "after step 3", "after step 4"]);
});

it("returns a finished step's stored result on replay", async () => {
  const id = await createJob("test-counter", { steps: 2, sleepMs: 1_000 });
  await runNextAlarm(id); // step-1 runs, sleep-1 starts
  expect((await snapshot(id)).steps.recent.map((s) => s.state)).toEqual(["succeeded", "sleeping"]);
  const done = await runToEnd(id);
  expect(done.result).toEqual({ sum: 3 }); // 1 from the stored result of step-1, 2 from step-2
  expect(runCount(id, "step-1")).toBe(1);
});

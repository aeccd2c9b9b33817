// Cancel: the job ends as canceled, its signal aborts, no further step runs.
import { runDurableObjectAlarm, SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { openGate, runCount } from "./fixtures/jobs";
import type { JobSnapshot } from "../src/protocol";
import { alarmAt, allEvents, allSteps, auth, BASE, cancelJob, clock, createJob, expectGapFree, runNextAlarm, snapshot, states, stepStatuses, stubOf, useVirtualClock } from "./helpers";

useVirtualClock();

const cancel = (id: string) => cancelJob(id);

it("cancels a sleeping job: no further step runs", async () => {
  const id = await createJob("sleepy", { duration: "1 minute" });
  await runNextAlarm(id);
  expect((await snapshot(id)).state).toBe("waiting");
  const response = await cancel(id);
  expect(response.status).toBe(200);
  const canceled = await response.json<JobSnapshot>();
  expect(canceled.state).toBe("canceled");
  expect(canceled.error).toEqual({ code: "canceled", message: "The job was canceled" });
  // The only alarm left is the retention one.
  expect(await alarmAt(id)).toBe(canceled.expiresAt);
  clock.advance(60_000);
  await runDurableObjectAlarm(stubOf(id));
  const after = await snapshot(id);
  expect(after.state).toBe("canceled");
  // The sleeping step was settled as canceled, not left counting down.
  expect((await allSteps(id)).map((s) => [s.name, s.state, s.until])).toEqual([["fall-asleep", "succeeded", null], ["nap", "canceled", null]]);
  expect(after.steps.current).toBeNull();
  const events = await allEvents(id);
  expectGapFree(events);
  expect(states(events).at(-1)).toBe("canceled");
  expect(events.at(-1)?.type).toBe("error");
});

it("cancels a running job mid-step: the step's outcome is discarded, the next step never runs", async () => {
  const id = await createJob("test-gate");
  const slice = runDurableObjectAlarm(stubOf(id));
  await vi.waitFor(() => expect(runCount(id, "wait")).toBe(1));
  expect((await cancel(id)).status).toBe(200);
  await slice;
  // The step body saw the abort and returned; its outcome must not be recorded.
  await vi.waitFor(() => expect(runCount(id, "wait-returned")).toBe(1));
  const after = await snapshot(id);
  expect(after.state).toBe("canceled");
  expect((await allSteps(id))[0]).toMatchObject({ name: "wait", state: "canceled" });
  expect(runCount(id, "after")).toBe(0);
  const events = await allEvents(id);
  expect(states(events)).toEqual(["queued", "running", "canceled"]);
  expect(stepStatuses(events)).toEqual(["wait:started:1", "wait:canceled:1"]);
});

it("answers 409 when canceling a finished job", async () => {
  const id = await createJob("sleepy", { duration: 0 });
  while ((await snapshot(id)).state !== "succeeded") await runNextAlarm(id);
  const response = await cancel(id);
  expect(response.status).toBe(409);
  expect(await response.json()).toMatchObject({ error: { code: "already_finished" } });
});

it("answers two cancels at the same moment truthfully: one 200, one 409, one canceled end", async () => {
  const id = await createJob("sleepy", { duration: "1 minute" });
  await runNextAlarm(id);
  const answers = await Promise.all([cancel(id), cancelJob(id, { "Control-Token": "x".repeat(43) }), cancel(id)]);
  expect(answers.map((r) => r.status).sort()).toEqual([200, 403, 409]);
  const events = await allEvents(id);
  expect(states(events)).toEqual(["queued", "running", "waiting", "canceled"]);
  expect(events.filter((e) => e.type === "error")).toHaveLength(1);
});

it("answers a cancel that meets the job's last step finishing as it took effect: canceled with no step after, or 409 and succeeded", async () => {
  const id = await createJob("test-gate");
  const slice = runDurableObjectAlarm(stubOf(id));
  await vi.waitFor(() => expect(runCount(id, "wait")).toBe(1));
  openGate(id);
  const answer = await cancel(id);
  await slice;
  const ended = await snapshot(id);
  expect(ended.state).toBe(answer.status === 200 ? "canceled" : "succeeded");
  expect(runCount(id, "after")).toBe(answer.status === 200 ? 0 : 1);
  // Its alarm, run now (before its expiry), changes nothing of how it ended.
  await runDurableObjectAlarm(stubOf(id));
  expect((await snapshot(id)).state).toBe(ended.state);
  expect(states(await allEvents(id)).at(-1)).toBe(ended.state);
});

it("refuses a cancel that comes while the job's end is being reported (409): the job stays as it ended", async () => {
  const id = await createJob("test-counter", { steps: 1 });
  const slice = runDurableObjectAlarm(stubOf(id));
  const answer = await cancel(id);
  await slice;
  const after = await snapshot(id);
  if (answer.status === 409) expect(after.state).toBe("succeeded");
  else expect(after.state).toBe("canceled");
  const events = await allEvents(id);
  expectGapFree(events);
  expect(events.filter((e) => e.type === "result" || e.type === "error")).toHaveLength(1);
  expect(states(events).filter((s) => s === "succeeded" || s === "canceled")).toHaveLength(1);
});

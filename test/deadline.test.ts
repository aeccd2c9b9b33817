// A job-level deadline fails the job with a timeout, whatever it is doing.
import { expect, it } from "vitest";
import { allEvents, createJob, runToEnd, states, stepStatuses, useVirtualClock } from "./helpers";

useVirtualClock();

it("fails a job at once when it sleeps past its deadline, naming the sleep", async () => {
  const id = await createJob("sleepy", { duration: "1 hour" }, { timeoutMs: 60_000 });
  const done = await runToEnd(id);
  expect(done.state).toBe("failed");
  expect(done.error).toEqual({ code: "timeout", message: 'The sleep "nap" would end after the job\'s deadline', step: "nap" });
  // Not a minute later, at the deadline: the sleep could only have ended in this timeout.
  expect(done.finishedAt! - done.createdAt).toBeLessThan(1_000);
  const events = await allEvents(id);
  expect(states(events).slice(-2)).toEqual(["running", "failed"]);
  expect(events.at(-1)).toMatchObject({ type: "error", data: { code: "timeout" } });
  // The sleep it was in ended with the job: not "sleeping, wakes in …" forever.
  expect(stepStatuses(events, "nap")).toEqual(["nap:sleeping:0", "nap:canceled:0"]);
  expect(done.steps.counts).toMatchObject({ sleeping: 0, canceled: 1 });
  expect(done.steps.current).toBeNull();
});

it("fails a job whose retries run past its deadline", async () => {
  const id = await createJob("flaky", { failures: 10, retries: 10, delayMs: 10_000 }, { timeoutMs: 30_000 });
  const done = await runToEnd(id);
  expect(done.state).toBe("failed");
  expect(done.error).toEqual({ code: "timeout", message: 'The next attempt of step "call-service" would start after the job\'s deadline', step: "call-service" });
  expect(done.steps.counts).toMatchObject({ waiting: 0, canceled: 1 });
});

it("gives a job with no timeoutMs the run time its input needs, past the default deadline", async () => {
  // DEFAULT_JOB_TIMEOUT is 1 hour: a 2-hour nap was accepted, then timed out after an hour;
  // and a deadline of the nap's length alone ends the job just before it wakes.
  const id = await createJob("sleepy", { duration: "2 hours" });
  const done = await runToEnd(id);
  expect(done.error).toBeNull();
  expect(done.state).toBe("succeeded");
  expect(done.deadlineAt - done.createdAt).toBeGreaterThan(2 * 3_600_000);
});

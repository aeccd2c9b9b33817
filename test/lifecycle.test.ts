// The full lifecycle of each built-in job type, driven alarm by alarm.
import { describe, expect, it } from "vitest";
import { allEvents, createJob, expectGapFree, runToEnd, states, stepStatuses, useVirtualClock } from "./helpers";

useVirtualClock();

describe("built-in job types", () => {
  it("demo: three messages a second apart, then its result", async () => {
    const id = await createJob("demo");
    const done = await runToEnd(id);
    expect(done.state).toBe("succeeded");
    expect(done.result).toEqual({ messages: 3 });
    expect(done.progress).toEqual({ current: 3, total: 3, message: "All done" });
    const events = await allEvents(id);
    expectGapFree(events);
    const logs = events.flatMap((e) => (e.type === "log" ? [e.data.message] : []));
    expect(logs).toEqual(["Did something", "Did something else", "All done"]);
    const sleeps = events.flatMap((e) => (e.type === "step" && e.data.status === "sleeping" ? [e.data.until! - e.at] : []));
    expect(sleeps.map((ms) => Math.round(ms / 100) * 100)).toEqual([1000, 1000, 1000]);
    expect(states(events)).toEqual(["queued", "running", "waiting", "running", "waiting", "running", "waiting", "running", "succeeded"]);
    expect(events.at(-1)).toMatchObject({ type: "result", data: { result: { messages: 3 } } });
  });

  it("primes: counts primes below n in many steps with true progress", async () => {
    const id = await createJob("primes", { n: 100_000, segment: 10_000 });
    const done = await runToEnd(id);
    expect(done.result).toEqual({ n: 100_000, primes: 9592 });
    expect(done.steps.total).toBe(10);
    const events = await allEvents(id);
    const progress = events.flatMap((e) => (e.type === "progress" ? [e.data.current] : []));
    expect(progress.at(-1)).toBe(10);
    expect(progress).toEqual([...progress].sort((a, b) => a! - b!));
  });

  it("flaky: fails twice, backs off exponentially, then recovers", async () => {
    const id = await createJob("flaky", { failures: 2, delayMs: 1000 });
    const done = await runToEnd(id);
    expect(done.state).toBe("succeeded");
    expect(done.result).toEqual({ succeededOnAttempt: 3 });
    const events = await allEvents(id);
    expect(stepStatuses(events, "call-service")).toEqual([
      "call-service:started:1", "call-service:retrying:1",
      "call-service:started:2", "call-service:retrying:2",
      "call-service:started:3", "call-service:succeeded:3",
    ]);
    // Backoff measured from the failure event; the real clock may tick between the two.
    const waits = events.flatMap((e) => (e.type === "step" && e.data.status === "retrying" ? [e.data.until! - e.at] : []));
    expect(waits.map((ms) => Math.round(ms / 100) * 100)).toEqual([1000, 2000]);
    expect(done.steps.recent.find((s) => s.name === "call-service")).toMatchObject({ attempts: 3, error: "Service unavailable (attempt 2)" });
    expect(done.steps.retries).toBe(2);
  });

  it("flaky: a non-retryable error fails the job at once", async () => {
    const id = await createJob("flaky", { fatal: true });
    const done = await runToEnd(id);
    expect(done.state).toBe("failed");
    expect(done.error).toMatchObject({ code: "step_failed", step: "call-service" });
    expect(done.error?.message).toContain("refused the request for good");
    expect(stepStatuses(await allEvents(id), "call-service")).toEqual(["call-service:started:1", "call-service:failed:1"]);
  });

  it("flaky: running out of retries fails the job", async () => {
    const id = await createJob("flaky", { failures: 5, retries: 2, delayMs: 10 });
    const done = await runToEnd(id);
    expect(done.state).toBe("failed");
    expect(done.error).toMatchObject({ code: "step_failed", step: "call-service" });
    expect(done.error?.message).toContain("attempt 3");
    const events = await allEvents(id);
    expect(events.at(-1)?.type).toBe("error");
    expect(states(events).at(-1)).toBe("failed");
  });

  it("sleepy: sleeps durably for the whole duration", async () => {
    const id = await createJob("sleepy", { duration: "2 hours" }, { timeoutMs: 3 * 3_600_000 });
    const done = await runToEnd(id);
    expect(done.state).toBe("succeeded");
    expect(done.result).toMatchObject({ sleptMs: expect.any(Number) });
    expect(Math.round((done.result as { sleptMs: number }).sleptMs / 1000)).toBe(7200);
  });
});

describe("results", () => {
  it("fails a step whose result is over 1 MiB of JSON, with a clear error", async () => {
    const done = await runToEnd(await createJob("test-oversized", { where: "step" }));
    expect(done.state).toBe("failed");
    expect(done.error).toMatchObject({ code: "step_failed", step: "huge", message: expect.stringContaining("store big data elsewhere") });
  });

  it("fails a job whose result is over 1 MiB of JSON, with a clear error", async () => {
    const done = await runToEnd(await createJob("test-oversized", { where: "result" }));
    expect(done.state).toBe("failed");
    expect(done.error).toMatchObject({ code: "invalid_result", message: expect.stringContaining("store big data elsewhere") });
  });
});

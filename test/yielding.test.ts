// The engine yields between steps: a status read is answered while a CPU-bound job runs.
import { runDurableObjectAlarm } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { createJob, snapshot, stubOf, useVirtualClock } from "./helpers";

useVirtualClock();

it("answers status reads between the steps of a running slice", async () => {
  const id = await createJob("primes", { n: 40_000_000, segment: 1_000_000 });
  const slice = runDurableObjectAlarm(stubOf(id));
  await vi.waitFor(async () => {
    const current = await snapshot(id);
    expect(current.state).toBe("running");
    expect(current.steps.counts.succeeded).toBeGreaterThan(0);
    expect(current.steps.total).toBeLessThan(40);
  }, { timeout: 10_000, interval: 5 });
  await slice;
});

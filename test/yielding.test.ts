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

it("answers status reads while a slice runs many short steps, each waiting for its write", async () => {
  const id = await createJob("test-many-steps", { steps: 900 });
  let sliceOver = false;
  const slice = runDurableObjectAlarm(stubOf(id)).finally(() => (sliceOver = true));
  let seenMidSlice = false;
  await vi.waitFor(async () => {
    const current = await snapshot(id);
    seenMidSlice = !sliceOver && current.state === "running" && current.steps.counts.succeeded > 0 && current.steps.counts.succeeded < 900;
    expect(seenMidSlice || sliceOver).toBe(true);
  }, { timeout: 10_000, interval: 1 });
  await slice;
  expect(seenMidSlice).toBe(true);
  // A slow machine may need more slices than one for 900 steps.
  for (let alarms = 0; alarms < 20 && (await snapshot(id)).state === "running"; alarms++) await runDurableObjectAlarm(stubOf(id));
  expect((await snapshot(id)).state).toBe("succeeded");
});

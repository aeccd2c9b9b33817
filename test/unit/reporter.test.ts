import { afterEach, expect, it, vi } from "vitest";
import { Reporter, REPORT_INTERVAL_MS } from "../../src/job/reporter";
import type { JobListing } from "../../src/protocol";
import type { IndexRpc } from "../../src/owners/owner-index";

afterEach(() => vi.useRealTimers());

/** A reporter over a job whose seq the test moves, and an index that records what it hears. */
function setUp(fail = false) {
  const job = { seq: 1 };
  const reports: number[] = [];
  const wakes: number[] = [];
  const index = {
    report: async (_listing: JobListing, seq: number) => {
      if (fail) throw new Error("index unavailable");
      reports.push(seq);
    },
  } as unknown as IndexRpc;
  const reporter = new Reporter({
    index: () => index,
    current: () => ({ listing: {} as JobListing, seq: job.seq }),
    wakeBy: async (at) => void wakes.push(at),
  });
  return { job, reports, wakes, reporter };
}

it("reports a change once, within the interval, and not again while nothing changes", async () => {
  vi.useFakeTimers();
  const { job, reports, reporter } = setUp();
  job.seq = 2;
  reporter.changed();
  reporter.changed();
  expect(reports).toEqual([]);
  await vi.advanceTimersByTimeAsync(REPORT_INTERVAL_MS);
  expect(reports).toEqual([2]);
  await vi.advanceTimersByTimeAsync(10 * REPORT_INTERVAL_MS);
  expect(reports).toEqual([2]);
});

it("a report made at once leaves no pending report to wake the object later", async () => {
  vi.useFakeTimers();
  const { job, reports, reporter } = setUp();
  job.seq = 3;
  reporter.changed(); // e.g. the end's events
  expect(await reporter.now()).toBe(true); // the end, reported before the retention alarm
  expect(reports).toEqual([3]);
  expect(vi.getTimerCount()).toBe(0);
});

it("a failed report is retried on a timer and by the alarm", async () => {
  vi.useFakeTimers();
  const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
  const { job, wakes, reporter } = setUp(true);
  job.seq = 2;
  expect(await reporter.now()).toBe(false);
  expect(vi.getTimerCount()).toBe(1);
  expect(wakes).toHaveLength(1);
  expect(warned).toHaveBeenCalledOnce();
  reporter.stop();
  warned.mockRestore();
});

it("reports nothing while the job's admission is under way, then only what the admission did not list", async () => {
  vi.useFakeTimers();
  const { job, reports, reporter } = setUp();
  reporter.admitting();
  reporter.changed(); // the job's queued state, which its admission lists
  await vi.advanceTimersByTimeAsync(5 * REPORT_INTERVAL_MS);
  expect(await reporter.now()).toBe(false);
  expect(reports).toEqual([]);
  job.seq = 2; // a change while the index was deciding
  reporter.admitted(1);
  await vi.advanceTimersByTimeAsync(REPORT_INTERVAL_MS);
  expect(reports).toEqual([2]);
  expect(vi.getTimerCount()).toBe(0);
});

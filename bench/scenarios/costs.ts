// Scenario 4: what a job costs in storage and alarms, from the object's own accounting
// (GET /jobs/:id/costs): rows written, alarms armed, events stored, per job and per step.
import { createJob, getCosts, waitForEnd, type JobCosts } from "../lib/api.ts";

export interface CostRow {
  job: string;
  state: string;
  /** From the job's start to its end, ms. */
  runMs: number;
  costs: JobCosts;
  rowsPerStep: number;
  rowsPerEvent: number;
}

/** Job types and inputs whose costs the README states. */
export const COST_JOBS: { label: string; type: string; input: unknown }[] = [
  { label: "demo (3 steps, 3 sleeps)", type: "demo", input: { intervalMs: 0 } },
  { label: "flaky (1 failure, then retried)", type: "flaky", input: { failures: 1, delayMs: 0 } },
  { label: "primes (10 segment steps)", type: "primes", input: { n: 100_000, segment: 10_000 } },
  // No subscribers and no pauses: how fast one object stores and publishes events.
  { label: "ticker, 1,000 logs, 1 per turn", type: "ticker", input: { count: 1_000, intervalMs: 0 } },
  { label: "ticker, 1,000 logs, 10 per turn", type: "ticker", input: { count: 1_000, intervalMs: 0, batch: 10 } },
];

export async function measureCosts(base: string): Promise<CostRow[]> {
  const rows: CostRow[] = [];
  for (const { label, type, input } of COST_JOBS) {
    const job = await createJob(base, type, input);
    const snapshot = await waitForEnd(base, job.id, 30_000);
    const costs = await getCosts(base, job.id);
    rows.push({
      job: label,
      state: snapshot.state,
      runMs: (snapshot.finishedAt ?? 0) - (snapshot.startedAt ?? 0),
      costs,
      rowsPerStep: costs.rowsWritten / Math.max(1, costs.steps),
      rowsPerEvent: costs.rowsWritten / Math.max(1, costs.eventsStored),
    });
  }
  return rows;
}

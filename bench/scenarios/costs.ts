// Scenario 4: what a job costs, from the object's own accounting in its owner's snapshot
// (`usage`: rows written, each setAlarm counted as one; alarms set; requests, alarm runs
// included; incoming WebSocket messages, billed 20 to a request), with the
// events it stored (`lastSeq`) and its steps (`steps.total`), priced per million jobs at
// Cloudflare's list prices. Each job runs without subscribers; the bench polls its status
// until it ends, and those status reads are taken off its requests.
import type { Usage } from "../../src/protocol.ts";
import { createJob, waitForEnd } from "../lib/api.ts";

/** Cloudflare's list prices (Workers Paid): SQLite rows written, Durable Object requests. Duration is left out. */
export const PRICES = { perMillionRowsWritten: 1.0, perMillionRequests: 0.15 };

export interface CostRow {
  job: string;
  type: string;
  input: unknown;
  state: string;
  /** From the job's start to its end, ms. */
  runMs: number;
  steps: number;
  eventsStored: number;
  usage: Usage;
  /** Billed requests without the bench's own status reads: the create, the alarm runs, messages / 20. */
  requests: number;
  rowsPerStep: number;
  /** Dollars per million such jobs: rows written and requests at list prices. */
  dollarsPerMillionJobs: number;
}

/** The jobs whose costs the README states. */
export const COST_JOBS: { label: string; type: string; input: unknown }[] = [
  { label: "60 steps, a log line and progress each", type: "bench-steps", input: { steps: 60, lines: 1, progress: true } },
  { label: "primes, 60 segments (progress, no log)", type: "primes", input: { n: 60_000_000, segment: 1_000_000 } },
  { label: "demo, intervalMs 0 (3 steps, 3 sleeps)", type: "demo", input: { intervalMs: 0 } },
  { label: "flaky, 1 failure, retried after 1 s", type: "flaky", input: { failures: 1, delayMs: 1_000 } },
  { label: "one step logging 3 lines", type: "bench-steps", input: { steps: 1, lines: 3 } },
  // No subscribers and no pauses: how fast one object stores and publishes events.
  { label: "ticker, 1,000 logs, 1 per turn", type: "ticker", input: { count: 1_000, intervalMs: 0 } },
  { label: "ticker, 1,000 logs, 10 per turn", type: "ticker", input: { count: 1_000, intervalMs: 0, batch: 10 } },
];

export async function measureCosts(base: string, jobs = COST_JOBS): Promise<CostRow[]> {
  const rows: CostRow[] = [];
  for (const { label, type, input } of jobs) {
    const job = await createJob(base, type, input);
    const { snapshot, reads } = await waitForEnd(base, job.id, 60_000);
    const { usage } = snapshot;
    const requests = usage.requests - reads + usage.messages / 20;
    rows.push({
      job: label,
      type,
      input,
      state: snapshot.state,
      runMs: (snapshot.finishedAt ?? 0) - (snapshot.startedAt ?? 0),
      steps: snapshot.steps.total,
      eventsStored: snapshot.lastSeq,
      usage,
      requests,
      rowsPerStep: usage.rowsWritten / Math.max(1, snapshot.steps.total),
      dollarsPerMillionJobs: usage.rowsWritten * PRICES.perMillionRowsWritten + requests * PRICES.perMillionRequests,
    });
  }
  return rows;
}

// Scenario 5: resident memory of the workerd processes with N idle subscribers. Each
// transport's subscribers stay open while the next ones connect, so every reading is
// fresh growth, not memory the allocator kept from connections closed earlier.
import { cancelJob, createJob } from "../lib/api.ts";
import { cpuSeconds, rssBytes, type DevProcesses } from "../lib/proc.ts";
import { subscribeMany, type SubscriberSet, type Transport } from "../lib/subscribers.ts";

/** Lets the runtime finish the handshakes' work and collect garbage before a reading. */
const SETTLE_MS = 2_000;

export interface MemoryRow {
  transport: Transport;
  subscribers: number;
  connectMs: number;
  /** Runtime CPU time spent per subscriber while they connected. */
  runtimeCpuMsPerConnect: number;
  runtimeBytes: number;
  proxyBytes: number;
  /** Growth of runtime plus proxy per subscriber. */
  bytesPerSubscriber: number;
}

export interface MemoryResult {
  baseline: { runtimeBytes: number; proxyBytes: number };
  rows: MemoryRow[];
}

function reading(processes: DevProcesses) {
  return { runtimeBytes: rssBytes(processes.runtime), proxyBytes: rssBytes(processes.proxy) };
}

export async function measureMemory(base: string, processes: DevProcesses, transports: Transport[], subscribers: number): Promise<MemoryResult> {
  const sets: SubscriberSet[] = [];
  const jobs: string[] = [];
  try {
    await sleep(SETTLE_MS);
    const baseline = reading(processes);
    let before = baseline;
    const rows: MemoryRow[] = [];
    for (const transport of transports) {
      // A job that sleeps for the whole measurement: its subscribers only wait.
      const job = await createJob(base, "ticker", { count: 1, intervalMs: 0, startAt: Date.now() + 600_000 });
      jobs.push(job.id);
      const started = Date.now();
      const cpuBefore = cpuSeconds(processes.runtime);
      const set = await subscribeMany({ base, jobId: job.id, transport, subscribers, events: 1 });
      sets.push(set);
      const connectMs = Date.now() - started;
      const runtimeCpuMsPerConnect = ((cpuSeconds(processes.runtime) - cpuBefore) * 1000) / subscribers;
      await sleep(SETTLE_MS);
      const after = reading(processes);
      const runtimeBytes = after.runtimeBytes - before.runtimeBytes;
      const proxyBytes = after.proxyBytes - before.proxyBytes;
      rows.push({ transport, subscribers, connectMs, runtimeCpuMsPerConnect, runtimeBytes, proxyBytes, bytesPerSubscriber: Math.round((runtimeBytes + proxyBytes) / subscribers) });
      before = after;
    }
    return { baseline, rows };
  } finally {
    for (const id of jobs) await cancelJob(base, id);
    for (const set of sets) set.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

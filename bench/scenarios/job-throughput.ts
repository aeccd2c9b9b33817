// Scenario 3: concurrent clients each create a short multi-step job, watch it over its
// WebSocket until its terminal event, and start the next one.
import { createJob } from "../lib/api.ts";
import { cpuMeter, type CpuShare, type DevProcesses } from "../lib/proc.ts";
import { summarize, type Summary } from "../lib/stats.ts";
import { openRawWebSocket } from "../lib/raw-websocket.ts";
import { TERMINAL_FRAME } from "../lib/subscribers.ts";

/** The demo job without pauses: three steps and three zero-length sleeps, each sleep an alarm. */
export const SHORT_JOB = { type: "demo", input: { intervalMs: 0 } };

export interface JobThroughputRow {
  clients: number;
  completed: number;
  failed: number;
  jobsPerSecond: number;
  createMs: Summary;
  /** From sending the create request to receiving the terminal event. */
  endToEndMs: Summary;
  cpu: CpuShare;
  /** A few job ids, for the cost scenario. */
  sampleIds: string[];
}

export interface JobThroughputOptions {
  base: string;
  processes: DevProcesses;
  clients: number;
  /** Clients start new jobs for this long, then wait for the last ones to finish. */
  seconds: number;
}

export async function measureJobThroughput(options: JobThroughputOptions): Promise<JobThroughputRow> {
  const createMs: number[] = [];
  const endToEndMs: number[] = [];
  const sampleIds: string[] = [];
  let failed = 0;
  const stopCpu = cpuMeter(options.processes);
  const start = performance.now();
  const until = start + options.seconds * 1000;
  const client = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      try {
        const job = await createJob(options.base, SHORT_JOB.type, SHORT_JOB.input);
        createMs.push(performance.now() - t0);
        if (sampleIds.length < 5) sampleIds.push(job.id);
        await watchUntilEnd(job.urls.ws);
        endToEndMs.push(performance.now() - t0);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  const elapsedMs = performance.now() - start;
  return {
    clients: options.clients,
    completed: endToEndMs.length,
    failed,
    jobsPerSecond: (endToEndMs.length / elapsedMs) * 1000,
    createMs: summarize(createMs),
    endToEndMs: summarize(endToEndMs),
    cpu: stopCpu(),
    sampleIds,
  };
}

/** Resolves at the terminal event, without waiting for workerd to close the TCP connection (~10 s later). */
async function watchUntilEnd(url: string): Promise<void> {
  let settle!: (error?: Error) => void;
  const ended = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
  const timer = setTimeout(() => settle(new Error(`No terminal event within 30 s on ${url}`)), 30_000);
  const socket = await openRawWebSocket(url, 10_000, {
    message: (text) => TERMINAL_FRAME.test(text) && settle(),
    closed: (code) => settle(new Error(`${url} closed (${code}) before the terminal event`)),
  });
  try {
    await ended;
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}

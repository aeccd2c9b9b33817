// One measured run: a ticker job that sleeps until its subscribers are connected, then
// publishes its phases. Shared by the fan-out latency and delivery throughput scenarios.
import { cancelJob, createJob } from "./api.ts";
import { subscribeMany, type SubscriberSet, type Transport } from "./subscribers.ts";

/** One phase of the ticker job (src/jobs/ticker.ts). */
export interface Phase {
  count: number;
  intervalMs: number;
  batch: number;
}

/** A phase of `seconds` at about `rate` events/s: at most 100 ticks a second, batches above that. */
export function phaseAt(rate: number, seconds: number): Phase {
  const ticksPerSecond = Math.min(rate, 100);
  const intervalMs = Math.round(1000 / ticksPerSecond);
  const batch = Math.max(1, Math.round(rate / ticksPerSecond));
  return { count: Math.max(1, Math.round(rate * seconds)), intervalMs, batch };
}

export function phaseRate(phase: Phase): number {
  return (phase.batch * 1000) / phase.intervalMs;
}

export function phaseMs(phase: Phase): number {
  return Math.ceil(phase.count / phase.batch) * phase.intervalMs;
}

/**
 * When a run's first event is due. Connecting costs a few ms per subscriber and varies
 * with load, so the budget follows the pace seen so far; a run that was not ready in
 * time is repeated. The previous run's connections close in a burst about 10 s after it
 * ended (workerd evicts the idle object then), so the first event also waits for that:
 * connecting overlaps the wait, publishing does not.
 */
export class ConnectPace {
  #msPerSubscriber = 8;
  /** Epoch ms before which no run should publish. */
  notBefore = 0;

  startAt(subscribers: number): number {
    return Math.max(Date.now() + 1_500 + Math.ceil(subscribers * this.#msPerSubscriber * 1.3), this.notBefore);
  }

  observe(subscribers: number, ms: number): void {
    this.#msPerSubscriber = Math.max(1, ms / subscribers);
  }
}

export interface TickerRunOptions {
  base: string;
  transport: Transport;
  subscribers: number;
  phases: Phase[];
  pauseMs: number;
  pace: ConnectPace;
}

export interface TickerRun {
  jobId: string;
  set: SubscriberSet;
  events: number;
  /** When the job publishes its first event, epoch ms. */
  startAt: number;
  connectMs: number;
}

/** Creates the job, connects every subscriber and waits for the first event to be due. */
export async function startTickerRun(options: TickerRunOptions, attempt = 1): Promise<TickerRun> {
  const { base, transport, subscribers, phases, pauseMs, pace } = options;
  const events = phases.reduce((sum, phase) => sum + phase.count, 0);
  const startAt = pace.startAt(subscribers);
  const [first, ...then] = phases;
  const job = await createJob(base, "ticker", { ...first, then, pauseMs, startAt });
  const connectStart = Date.now();
  const set = await subscribeMany({ base, jobId: job.id, transport, subscribers, events });
  const connectMs = set.connectedAt - connectStart;
  pace.observe(subscribers, connectMs);
  if (set.connectedAt > startAt) {
    // Late subscribers would get the first events as history, not live: measure again.
    set.close();
    await cancelJob(base, job.id);
    if (attempt >= 2) throw new Error(`${subscribers} ${transport} subscribers took ${connectMs} ms to connect, twice past the job's start`);
    return startTickerRun(options, attempt + 1);
  }
  await new Promise((resolve) => setTimeout(resolve, startAt - Date.now()));
  return { jobId: job.id, set, events, startAt, connectMs };
}

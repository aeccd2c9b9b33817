// One measured run: a ticker job that sleeps until its subscribers are connected, then
// publishes its phases. Shared by the fan-out latency and delivery throughput scenarios.
// The project's job is the `ticker` type (app/jobs/ticker.ts); the floor's is its ticker
// (bench/.worker/floor.ts): the same tick frames at the same rate, one phase only, and as
// many other frames around them as the project's sends (TickerFrames, from the warm-up).
import { cancelJob, createFloorJob, createJob, type TickerFrames } from "./api.ts";
import { streamUrl, subscribeMany, type SubscriberSet, type Transport } from "./subscribers.ts";

/**
 * Who serves the job: the app, or the bare Worker + Durable Object it is compared with
 * (WebSocket, and SSE from a stream the object holds); that floor serving SSE the way the
 * app does, from the Worker over a WebSocket per viewer; or (job throughput) the floor's
 * job with an owner's list and a run from an alarm (bench/.worker/floor.ts, "durable").
 */
export type Contender = "project" | "floor" | "floor-bridged" | "floor-durable";

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
 * ended (workerd evicts the idle object then), so the first event also waits for that.
 * The job is created and its subscribers connected just in time (`createAt`), not at the
 * start of that wait: a job object idle for 10 s hibernates, and (as of 3e1d676) one that
 * wakes with a live text viewer throws in its constructor (Fanout rebuilds the text
 * cursor with a snapshot, which reads `#fanout.count` before it is set), so its job
 * never publishes. Connecting late also keeps every transport's run free of a wake-up.
 */
export class ConnectPace {
  #msPerSubscriber = 8;
  /** Epoch ms before which no run should publish. */
  notBefore = 0;

  /** How long before its first event a run with this many subscribers creates its job. */
  leadMs(subscribers: number): number {
    return 1_500 + Math.ceil(subscribers * this.#msPerSubscriber * 1.3);
  }

  startAt(subscribers: number): number {
    return Math.max(Date.now() + this.leadMs(subscribers), this.notBefore);
  }

  observe(subscribers: number, ms: number): void {
    this.#msPerSubscriber = Math.max(1, ms / subscribers);
  }
}

export interface TickerRunOptions {
  base: string;
  contender: Contender;
  transport: Transport;
  subscribers: number;
  phases: Phase[];
  pauseMs: number;
  pace: ConnectPace;
  /** The floor's frames besides its ticks; without them it sends the ticks and a result. */
  floorFrames?: TickerFrames;
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
  const { base, contender, transport, subscribers, phases, pauseMs, pace } = options;
  const events = phases.reduce((sum, phase) => sum + phase.count, 0);
  const startAt = pace.startAt(subscribers);
  await new Promise((resolve) => setTimeout(resolve, startAt - pace.leadMs(subscribers) - Date.now()));
  const [first, ...then] = phases;
  let job: { id: string; url: string };
  if (contender !== "project") {
    if (then.length || transport === "text" || contender === "floor-durable" || (contender === "floor-bridged" && transport !== "sse")) {
      throw new Error("The floor publishes one phase, over WebSocket or SSE (bridged: SSE only)");
    }
    const floor = await createFloorJob(base, "ticker", { ticker: { ...first!, startAt, ...options.floorFrames } });
    const sse = `${base}/floor/jobs/${floor.id}/${contender === "floor" ? "sse" : "sse-bridged"}`;
    job = { id: floor.id, url: transport === "ws" ? floor.ws : sse };
  } else {
    const created = await createJob(base, "ticker", { ...first, then, pauseMs, startAt });
    job = { id: created.id, url: streamUrl(base, created.id, transport) };
  }
  const connectStart = Date.now();
  const set = await subscribeMany({ url: job.url, transport, subscribers, events });
  const connectMs = set.connectedAt - connectStart;
  pace.observe(subscribers, connectMs);
  if (set.connectedAt > startAt) {
    // Late subscribers would get the first events as history, not live: measure again.
    set.close();
    if (contender === "project") await cancelJob(base, job.id);
    if (attempt >= 2) throw new Error(`${subscribers} ${transport} subscribers took ${connectMs} ms to connect, twice past the job's start`);
    return startTickerRun(options, attempt + 1);
  }
  await new Promise((resolve) => setTimeout(resolve, startAt - Date.now()));
  return { jobId: job.id, set, events, startAt, connectMs };
}

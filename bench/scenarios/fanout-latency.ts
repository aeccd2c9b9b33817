// Scenario 1: one job publishing at a steady rate to N subscribers per transport.
// Reports publish→receive percentiles, whether every subscriber got every event in order,
// and the runtime's CPU time per delivery; for the project, and for the floor contender
// broadcasting the same frames at the same rate to as many WebSocket subscribers.
import { cpuMeter, type CpuShare, type DevProcesses } from "../lib/proc.ts";
import { summarize, type Summary } from "../lib/stats.ts";
import type { Transport } from "../lib/subscribers.ts";
import type { TickerFrames } from "../lib/api.ts";
import { phaseAt, phaseMs, phaseRate, startTickerRun, type ConnectPace, type Contender } from "../lib/ticker-run.ts";

export interface LatencyRow {
  contender: Contender;
  transport: Transport;
  /** "wrangler dev" (through its proxy) or "runtime" (the runtime's own port). */
  via: "wrangler dev" | "runtime";
  subscribers: number;
  eventsPerSecond: number;
  events: number;
  connectMs: number;
  latencyMs: Summary;
  /** Subscribers that got every event, in order, and saw their stream end cleanly. */
  complete: number;
  deliveriesPerSecond: number;
  /** Tick events received by all subscribers. */
  deliveries: number;
  /** Runtime CPU time per delivery, µs, from the first publish until every stream ended. */
  runtimeUsPerDelivery: number;
  cpu: CpuShare;
}

export interface LatencyOptions {
  base: string;
  contender: Contender;
  via: LatencyRow["via"];
  processes: DevProcesses;
  transport: Transport;
  subscribers: number;
  rate: number;
  seconds: number;
  pace: ConnectPace;
  floorFrames?: TickerFrames;
}

export async function measureLatency(options: LatencyOptions): Promise<LatencyRow> {
  const { base, transport, subscribers, pace } = options;
  const phase = phaseAt(options.rate, options.seconds);
  const run = await startTickerRun({ base, contender: options.contender, transport, subscribers, phases: [phase], pauseMs: 0, pace, floorFrames: options.floorFrames });
  const stopCpu = cpuMeter(options.processes);
  try {
    // Ample time to drain: a run that falls behind still reports what it delivered.
    await run.set.ended(run.startAt + phaseMs(phase) * 3 + 10_000);
  } finally {
    run.set.close();
  }
  const cpu = stopCpu();
  const { tally, receivers } = run.set;
  const complete = receivers.filter((r) => r.ended && r.inOrder && r.received === run.events && !r.error).length;
  const lastReceipt = tally.receivedAt.reduce((max, at) => Math.max(max, at), run.startAt);
  const deliveries = tally.latency.length;
  return {
    contender: options.contender,
    transport,
    via: options.via,
    subscribers,
    eventsPerSecond: phaseRate(phase),
    events: run.events,
    connectMs: run.connectMs,
    latencyMs: summarize(tally.latency),
    complete,
    deliveriesPerSecond: Math.round((deliveries / Math.max(1, lastReceipt - run.startAt)) * 1000),
    deliveries,
    runtimeUsPerDelivery: deliveries ? (cpu.runtimeSeconds * 1e6) / deliveries : NaN,
    cpu,
  };
}

// Scenario 1: one job publishing at a steady rate to N subscribers per transport.
// Reports publish→receive percentiles and whether every subscriber got every event in order.
import { cpuMeter, type CpuShare, type DevProcesses } from "../lib/proc.ts";
import { summarize, type Summary } from "../lib/stats.ts";
import type { Transport } from "../lib/subscribers.ts";
import { phaseAt, phaseMs, phaseRate, startTickerRun, type ConnectPace } from "../lib/ticker-run.ts";

export interface LatencyRow {
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
  cpu: CpuShare;
}

export interface LatencyOptions {
  base: string;
  via: LatencyRow["via"];
  processes: DevProcesses;
  transport: Transport;
  subscribers: number;
  rate: number;
  seconds: number;
  pace: ConnectPace;
}

export async function measureLatency(options: LatencyOptions): Promise<LatencyRow> {
  const { base, transport, subscribers, pace } = options;
  const phase = phaseAt(options.rate, options.seconds);
  const run = await startTickerRun({ base, transport, subscribers, phases: [phase], pauseMs: 0, pace });
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
  return {
    transport,
    via: options.via,
    subscribers,
    eventsPerSecond: phaseRate(phase),
    events: run.events,
    connectMs: run.connectMs,
    latencyMs: summarize(tally.latency),
    complete,
    deliveriesPerSecond: Math.round((tally.latency.length / Math.max(1, lastReceipt - run.startAt)) * 1000),
    cpu,
  };
}

// Scenario 2: one set of subscribers, one job publishing phases at rising rates, a pause
// between them so a phase that keeps up leaves no backlog. The first phase whose events
// have not all been delivered half a second after its last publish has fallen behind: the job
// is canceled there, and the phase before it is the knee.
import { cancelJob } from "../lib/api.ts";
import { cpuMeter, type CpuShare, type DevProcesses } from "../lib/proc.ts";
import { summarize, type Summary } from "../lib/stats.ts";
import type { Tally, Transport } from "../lib/subscribers.ts";
import { phaseAt, phaseMs, phaseRate, startTickerRun, type ConnectPace, type Phase } from "../lib/ticker-run.ts";

/** Offered deliveries per second (events/s × subscribers) of each phase. */
export const OFFERED_LADDER = [2_500, 5_000, 10_000, 20_000, 40_000, 80_000];
const PHASE_SECONDS = 2;
const PAUSE_MS = 1_000;
/** A phase keeps up when all its deliveries arrived this long after its last publish. */
const GRACE_MS = 500;

export interface PhaseResult {
  eventsPerSecond: number;
  offeredPerSecond: number;
  deliveriesPerSecond: number;
  latencyMs: Summary;
  keptUp: boolean;
  /** While the phase published and drained: shows which process saturated first. */
  cpu: CpuShare;
}

export interface KneeRow {
  transport: Transport;
  subscribers: number;
  phases: PhaseResult[];
  /** The fastest phase that kept up; null if even the first fell behind. */
  knee: PhaseResult | null;
  /** The first phase that fell behind: its rate is what the system could deliver. */
  behind: PhaseResult | null;
}

export interface KneeOptions {
  base: string;
  /** Offered deliveries per second of each phase; OFFERED_LADDER by default. */
  ladder?: number[];
  processes: DevProcesses;
  transport: Transport;
  subscribers: number;
  pace: ConnectPace;
}

export async function findKnee(options: KneeOptions): Promise<KneeRow> {
  const { base, transport, subscribers, pace } = options;
  const phases = (options.ladder ?? OFFERED_LADDER).map((offered) => phaseAt(offered / subscribers, PHASE_SECONDS));
  const run = await startTickerRun({ base, contender: "project", transport, subscribers, phases, pauseMs: PAUSE_MS, pace });
  const results: PhaseResult[] = [];
  try {
    let first = 1;
    let expectedStart = run.startAt;
    for (const phase of phases) {
      const last = first + phase.count - 1;
      const result = await watchPhase(run.set.tally, options.processes, phase, { first, last, subscribers, expectedStart });
      results.push(result);
      if (!result.keptUp) break;
      expectedStart = run.set.tally.publishedAt[last]! + PAUSE_MS;
      first = last + 1;
    }
  } finally {
    await cancelJob(base, run.jobId);
    run.set.close();
  }
  const behind = results.find((r) => !r.keptUp) ?? null;
  const knee = results.filter((r) => r.keptUp).at(-1) ?? null;
  return { transport, subscribers, phases: results, knee, behind };
}

interface PhaseTicks {
  first: number;
  last: number;
  subscribers: number;
  /** When the phase should start publishing, epoch ms. */
  expectedStart: number;
}

/** Waits for the phase's first event, then for its end plus the grace time, and judges it. */
async function watchPhase(tally: Tally, processes: DevProcesses, phase: Phase, ticks: PhaseTicks): Promise<PhaseResult> {
  const { first, last, subscribers, expectedStart } = ticks;
  const expected = subscribers * phase.count;
  const startedBy = expectedStart + phaseMs(phase) + GRACE_MS;
  while (tally.publishedAt[first] === 0 && Date.now() < startedBy) await sleep(20);
  const stopCpu = cpuMeter(processes);
  const start = tally.publishedAt[first] || expectedStart;
  const checkAt = start + phaseMs(phase) + GRACE_MS;
  while (tally.delivered(first, last) < expected && Date.now() < checkAt) await sleep(50);
  const cpu = stopCpu();
  const delivered = tally.delivered(first, last);
  const latencies: number[] = [];
  let lastReceipt = start;
  for (let i = 0; i < tally.index.length; i++) {
    if (tally.index[i]! < first || tally.index[i]! > last) continue;
    latencies.push(tally.latency[i]!);
    lastReceipt = Math.max(lastReceipt, tally.receivedAt[i]!);
  }
  const keptUp = delivered === expected;
  const spanMs = (keptUp ? lastReceipt : Date.now()) - start;
  return {
    eventsPerSecond: phaseRate(phase),
    offeredPerSecond: Math.round(phaseRate(phase) * subscribers),
    deliveriesPerSecond: Math.round((delivered / Math.max(1, spanMs)) * 1000),
    latencyMs: summarize(latencies),
    keptUp,
    cpu,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

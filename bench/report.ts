// Turns scenario results into the tables `npm run bench` prints and README.md shows.
import type { ProfileLine } from "./lib/inspector.ts";
import type { CpuShare } from "./lib/proc.ts";
import { percentile } from "./lib/stats.ts";
import { markdownTable, type Cell } from "./lib/table.ts";
import type { CostRow } from "./scenarios/costs.ts";
import type { KneeRow, PhaseResult } from "./scenarios/delivery-throughput.ts";
import type { LatencyRow } from "./scenarios/fanout-latency.ts";
import type { JobThroughputRow } from "./scenarios/job-throughput.ts";
import type { MemoryResult } from "./scenarios/memory.ts";
import type { ReplayResult } from "./scenarios/replay.ts";

const MiB = 1024 * 1024;
const oneDecimal = (value: number) => Math.round(value * 10) / 10;
const twoDecimals = (value: number) => Math.round(value * 100) / 100;
const transportName = { ws: "WebSocket", sse: "SSE", text: "text" } as const;
const contenderName = { project: "live-jobs", floor: "floor", "floor-bridged": "floor, bridged", "floor-durable": "floor, durable" } as const;

export function latencyTable(rows: LatencyRow[]): string {
  return markdownTable(
    ["server", "transport", "via", "subs", "events/s", "deliveries/s", "p50 ms", "p99 ms", "max ms", "complete, in order", "runtime CPU µs/delivery", "CPU runtime/proxy/client/other %"],
    rows.map((r) => [
      contenderName[r.contender], transportName[r.transport], r.via, r.subscribers, r.eventsPerSecond, r.deliveriesPerSecond,
      r.latencyMs.p50, r.latencyMs.p99, r.latencyMs.max, `${r.complete}/${r.subscribers}`, Math.round(r.runtimeUsPerDelivery),
      cpuCell(r.cpu),
    ]),
  );
}

const cpuCell = (cpu: CpuShare) => `${cpu.runtime}/${cpu.proxy}/${cpu.client}/${cpu.other}`;

const phaseCell = (p: PhaseResult | null) => (p ? `${p.offeredPerSecond.toLocaleString("en-US")} → ${p.deliveriesPerSecond.toLocaleString("en-US")}` : "–");

export function kneeTable(rows: KneeRow[]): string {
  return markdownTable(
    ["transport", "subs", "knee: offered → delivered/s", "knee p99 ms", "fell behind: offered → delivered/s", "CPU when behind runtime/proxy/client/other %", "runtime CPU µs/delivery"],
    rows.map((r) => [
      transportName[r.transport], r.subscribers, phaseCell(r.knee), r.knee?.latencyMs.p99 ?? null,
      r.behind ? phaseCell(r.behind) : "never (ladder ended)", r.behind ? cpuCell(r.behind.cpu) : "–",
      r.behind ? Math.round((r.behind.cpu.runtime * 10_000) / r.behind.deliveriesPerSecond) : null,
    ]),
  );
}

export function jobsTable(rows: JobThroughputRow[]): string {
  const rounds = rows.some((r) => r.round > 1);
  return markdownTable(
    ["server", "clients", ...(rounds ? ["round"] : []), "jobs done", "failed", "jobs/s", "create p50 ms", "create p99 ms", "end-to-end p50 ms", "end-to-end p99 ms", "runtime CPU ms/job", "proxy CPU ms/job", "CPU runtime/proxy/client/other %"],
    rows.map((r) => [
      contenderName[r.contender], r.clients, ...(rounds ? [r.round] : []), r.completed, r.failed, oneDecimal(r.jobsPerSecond),
      Math.round(r.createMs.p50), Math.round(r.createMs.p99), Math.round(r.endToEndMs.p50), Math.round(r.endToEndMs.p99),
      oneDecimal(r.runtimeCpuMsPerJob), oneDecimal(r.proxyCpuMsPerJob), cpuCell(r.cpu),
    ]),
  );
}

/** The heaviest functions of a CPU profile: self time (where the thread was) and total (with what they called). */
export function profileTable(lines: ProfileLine[]): string {
  return markdownTable(["function", "self %", "total %"], lines.map((l) => [l.name, oneDecimal(l.selfPercent), oneDecimal(l.totalPercent)]));
}

export function costsTable(rows: CostRow[]): string {
  return markdownTable(
    ["job", "state", "run ms", "steps", "events stored", "rows written", "alarms", "requests", "rows/step", "$ per million jobs"],
    rows.map((r) => [
      r.job, r.state, r.runMs, r.steps, r.eventsStored, r.usage.rowsWritten, r.usage.alarms, r.requests,
      oneDecimal(r.rowsPerStep), twoDecimals(r.dollarsPerMillionJobs),
    ]),
  );
}

export function memoryTable(result: MemoryResult): string {
  return markdownTable(
    ["transport", "viewers", "count", "connect s", "runtime CPU ms/viewer", "runtime RSS +MiB", "proxy RSS +MiB", "RSS KiB per viewer", "live JS heap KiB per viewer", "kernel socket queues KiB per viewer", "KiB received per viewer", "billed object requests per viewer"],
    result.rows.map((r) => [
      transportName[r.transport], r.kind, r.subscribers, oneDecimal(r.connectMs / 1000), oneDecimal(r.runtimeCpuMsPerViewer),
      oneDecimal(r.runtimeBytes / MiB), oneDecimal(r.proxyBytes / MiB), Math.round(r.bytesPerSubscriber / 1024),
      r.heapBytesPerViewer === null ? null : Math.round(r.heapBytesPerViewer / 1024),
      Math.round(r.socketQueuedBytesPerViewer / 1024), Math.round(r.receivedCharsPerViewer / 1024), oneDecimal(r.requestsPerViewer),
    ]),
  );
}

/** Each reader against the first (a WebSocket a frame a message), measured in the same run. */
export function replayTable(result: ReplayResult): string {
  const [first] = result.rows;
  const ratio = (value: number, of: number | undefined) => (of ? `${twoDecimals(value / of)}×` : null);
  return markdownTable(
    ["reader", "messages or chunks", "ms", "server CPU ms", "client CPU ms", "time vs a frame a message", "server CPU vs it", "client CPU vs it"],
    result.rows.map((r) => [
      r.reader, r.messages, Math.round(r.ms), Math.round(r.serverCpuS * 1000), Math.round(r.clientCpuS * 1000),
      ratio(r.ms, first?.ms), ratio(r.serverCpuS, first?.serverCpuS), ratio(r.clientCpuS, first?.clientCpuS),
    ]),
  );
}

/** The project against the floor, and the project's transports against its WebSocket. */
export interface Comparison {
  jobs: {
    /** Each figure is the median over `rounds` (see `--rounds`), each ratio the median of the rounds' ratios. */
    clients: number; rounds: number; projectJobsPerSecond: number; floorJobsPerSecond: number; jobsPerSecondRatio: number; projectCpuMsPerJob: number; floorCpuMsPerJob: number; cpuPerJobRatio: number;
    /** The rounds' lowest and highest ratios (equal with one round). */
    jobsPerSecondRatioRange: [number, number]; cpuPerJobRatioRange: [number, number];
    /** The floor's durable job (an owner's list, a run from an alarm) against the floor's job: what those two cost here. */
    durableCpuMsPerJob: number | null; durableCpuPerJobRatio: number | null; durableJobsPerSecondRatio: number | null;
  }[];
  fanout: { subscribers: number; projectUsPerDelivery: number; floorUsPerDelivery: number; ratio: number; projectP99Ms: number; floorP99Ms: number }[];
  transports: { subscribers: number; wsUsPerDelivery: number; sseVsWs: number | null; textVsWs: number | null; wsP99Ms: number; sseP99VsWs: number | null; textP99VsWs: number | null }[];
  /** The floor's SSE against the floor's WebSocket: what SSE costs on this platform, served by the object or bridged by the Worker. */
  floorTransports: { subscribers: number; wsUsPerDelivery: number; sseVsWs: number | null; bridgedVsWs: number | null; wsP99Ms: number; sseP99VsWs: number | null; bridgedP99VsWs: number | null }[];
}

export function compare(jobs: JobThroughputRow[], latency: LatencyRow[]): Comparison {
  const comparison: Comparison = { jobs: [], fanout: [], transports: [], floorTransports: [] };
  for (const clients of new Set(jobs.map((r) => r.clients))) {
    const rounds: { project: JobThroughputRow; floor: JobThroughputRow; durable: JobThroughputRow | undefined }[] = [];
    for (const project of jobs.filter((r) => r.contender === "project" && r.clients === clients)) {
      const same = (contender: JobThroughputRow["contender"]) => jobs.find((r) => r.contender === contender && r.clients === clients && r.round === project.round);
      const floor = same("floor");
      if (floor) rounds.push({ project, floor, durable: same("floor-durable") });
    }
    if (!rounds.length) continue;
    const durables = rounds.flatMap(({ floor, durable }) => (durable ? [{ floor, durable }] : []));
    const jobsPerSecondRatios = rounds.map(({ project, floor }) => project.jobsPerSecond / floor.jobsPerSecond);
    const cpuPerJobRatios = rounds.map(({ project, floor }) => project.runtimeCpuMsPerJob / floor.runtimeCpuMsPerJob);
    comparison.jobs.push({
      clients, rounds: rounds.length,
      projectJobsPerSecond: median(rounds.map((r) => r.project.jobsPerSecond)), floorJobsPerSecond: median(rounds.map((r) => r.floor.jobsPerSecond)),
      jobsPerSecondRatio: median(jobsPerSecondRatios), jobsPerSecondRatioRange: range(jobsPerSecondRatios),
      projectCpuMsPerJob: median(rounds.map((r) => r.project.runtimeCpuMsPerJob)), floorCpuMsPerJob: median(rounds.map((r) => r.floor.runtimeCpuMsPerJob)),
      cpuPerJobRatio: median(cpuPerJobRatios), cpuPerJobRatioRange: range(cpuPerJobRatios),
      durableCpuMsPerJob: durables.length ? median(durables.map((r) => r.durable.runtimeCpuMsPerJob)) : null,
      durableCpuPerJobRatio: durables.length ? median(durables.map((r) => r.durable.runtimeCpuMsPerJob / r.floor.runtimeCpuMsPerJob)) : null,
      durableJobsPerSecondRatio: durables.length ? median(durables.map((r) => r.durable.jobsPerSecond / r.floor.jobsPerSecond)) : null,
    });
  }
  const viaProxy = latency.filter((r) => r.via === "wrangler dev");
  const find = (contender: LatencyRow["contender"], transport: LatencyRow["transport"], subscribers: number) =>
    viaProxy.find((r) => r.contender === contender && r.transport === transport && r.subscribers === subscribers);
  for (const ws of viaProxy.filter((r) => r.contender === "project" && r.transport === "ws")) {
    const floor = find("floor", "ws", ws.subscribers);
    if (floor) {
      comparison.fanout.push({
        subscribers: ws.subscribers, projectUsPerDelivery: ws.runtimeUsPerDelivery, floorUsPerDelivery: floor.runtimeUsPerDelivery,
        ratio: ws.runtimeUsPerDelivery / floor.runtimeUsPerDelivery, projectP99Ms: ws.latencyMs.p99, floorP99Ms: floor.latencyMs.p99,
      });
    }
    const sse = find("project", "sse", ws.subscribers);
    const text = find("project", "text", ws.subscribers);
    if (sse || text) {
      comparison.transports.push({
        subscribers: ws.subscribers, wsUsPerDelivery: ws.runtimeUsPerDelivery,
        sseVsWs: sse ? sse.runtimeUsPerDelivery / ws.runtimeUsPerDelivery : null, textVsWs: text ? text.runtimeUsPerDelivery / ws.runtimeUsPerDelivery : null,
        wsP99Ms: ws.latencyMs.p99,
        sseP99VsWs: sse ? sse.latencyMs.p99 / ws.latencyMs.p99 : null, textP99VsWs: text ? text.latencyMs.p99 / ws.latencyMs.p99 : null,
      });
    }
  }
  for (const ws of viaProxy.filter((r) => r.contender === "floor" && r.transport === "ws")) {
    const sse = find("floor", "sse", ws.subscribers);
    const bridged = find("floor-bridged", "sse", ws.subscribers);
    if (!sse && !bridged) continue;
    comparison.floorTransports.push({
      subscribers: ws.subscribers, wsUsPerDelivery: ws.runtimeUsPerDelivery,
      sseVsWs: sse ? sse.runtimeUsPerDelivery / ws.runtimeUsPerDelivery : null, bridgedVsWs: bridged ? bridged.runtimeUsPerDelivery / ws.runtimeUsPerDelivery : null,
      wsP99Ms: ws.latencyMs.p99,
      sseP99VsWs: sse ? sse.latencyMs.p99 / ws.latencyMs.p99 : null, bridgedP99VsWs: bridged ? bridged.latencyMs.p99 / ws.latencyMs.p99 : null,
    });
  }
  return comparison;
}

/** The rounds' p50, as every other median here (lib/stats.ts). */
const median = (values: number[]): number => percentile(Float64Array.from(values).sort(), 50);
const range = (values: number[]): [number, number] => [Math.min(...values), Math.max(...values)];

const ratio = (value: number | null): Cell => (value === null || !Number.isFinite(value) ? null : `${twoDecimals(value).toFixed(2)}×`);

export function comparisonTables(c: Comparison, jobLabels: { project: string; floor: string }): string {
  const parts: string[] = [];
  if (c.jobs.length) {
    // With rounds, each figure is the rounds' median, and each ratio comes with its range.
    const rounds = Math.max(...c.jobs.map((r) => r.rounds));
    const withRange = (value: number, [low, high]: [number, number]): Cell => (rounds > 1 ? `${ratio(value)} (${ratio(low)}–${ratio(high)})` : ratio(value));
    parts.push(`Job throughput — live-jobs: ${jobLabels.project}; floor: ${jobLabels.floor}; floor, durable: the same with an owner's list and a run from an alarm${rounds > 1 ? `; medians of ${rounds} rounds, each ratio with its range` : ""}\n\n${markdownTable(
      ["clients", "live-jobs jobs/s", "floor jobs/s", "jobs/s live-jobs/floor", "live-jobs runtime CPU ms/job", "floor runtime CPU ms/job", "CPU/job live-jobs/floor", "floor, durable CPU ms/job", "CPU/job durable/floor", "jobs/s durable/floor"],
      c.jobs.map((r) => [
        r.clients, oneDecimal(r.projectJobsPerSecond), oneDecimal(r.floorJobsPerSecond), withRange(r.jobsPerSecondRatio, r.jobsPerSecondRatioRange), oneDecimal(r.projectCpuMsPerJob), oneDecimal(r.floorCpuMsPerJob), withRange(r.cpuPerJobRatio, r.cpuPerJobRatioRange),
        r.durableCpuMsPerJob === null ? null : oneDecimal(r.durableCpuMsPerJob), ratio(r.durableCpuPerJobRatio), ratio(r.durableJobsPerSecondRatio),
      ]),
    )}`);
  }
  if (c.fanout.length) {
    parts.push(`Fan-out over WebSocket — the same frames (the ticks, and the state, step and result frames around them) at the same rate to the same subscribers; CPU per tick delivered\n\n${markdownTable(
      ["subs", "live-jobs runtime CPU µs/delivery", "floor runtime CPU µs/delivery", "live-jobs/floor", "live-jobs p99 ms", "floor p99 ms"],
      c.fanout.map((r) => [r.subscribers, Math.round(r.projectUsPerDelivery), Math.round(r.floorUsPerDelivery), ratio(r.ratio), r.projectP99Ms, r.floorP99Ms]),
    )}`);
  }
  if (c.transports.length) {
    parts.push(`live-jobs' SSE and text against its WebSocket (runtime CPU per delivery, p99)\n\n${markdownTable(
      ["subs", "WebSocket µs/delivery", "SSE/WebSocket CPU", "text/WebSocket CPU", "WebSocket p99 ms", "SSE/WebSocket p99", "text/WebSocket p99"],
      c.transports.map((r) => [r.subscribers, Math.round(r.wsUsPerDelivery), ratio(r.sseVsWs), ratio(r.textVsWs), r.wsP99Ms, ratio(r.sseP99VsWs), ratio(r.textP99VsWs)]),
    )}`);
  }
  if (c.floorTransports.length) {
    parts.push(`The floor's SSE against its WebSocket: served by the object, and bridged by the Worker as live-jobs does\n\n${markdownTable(
      ["subs", "floor WebSocket µs/delivery", "SSE/WebSocket CPU", "bridged SSE/WebSocket CPU", "floor WebSocket p99 ms", "SSE/WebSocket p99", "bridged SSE/WebSocket p99"],
      c.floorTransports.map((r) => [r.subscribers, Math.round(r.wsUsPerDelivery), ratio(r.sseVsWs), ratio(r.bridgedVsWs), r.wsP99Ms, ratio(r.sseP99VsWs), ratio(r.bridgedP99VsWs)]),
    )}`);
  }
  return parts.join("\n\n");
}

// Turns scenario results into the tables `npm run bench` prints and README.md shows.
import type { CpuShare } from "./lib/proc.ts";
import { markdownTable } from "./lib/table.ts";
import type { CostRow } from "./scenarios/costs.ts";
import type { KneeRow, PhaseResult } from "./scenarios/delivery-throughput.ts";
import type { LatencyRow } from "./scenarios/fanout-latency.ts";
import type { JobThroughputRow } from "./scenarios/job-throughput.ts";
import type { MemoryResult } from "./scenarios/memory.ts";

const MiB = 1024 * 1024;
const oneDecimal = (value: number) => Math.round(value * 10) / 10;
const transportName = { ws: "WebSocket", sse: "SSE", text: "text" } as const;

export function latencyTable(rows: LatencyRow[]): string {
  return markdownTable(
    ["transport", "via", "subs", "events/s", "deliveries/s", "p50 ms", "p99 ms", "max ms", "complete, in order", "CPU runtime/proxy/client/other %"],
    rows.map((r) => [
      transportName[r.transport], r.via, r.subscribers, r.eventsPerSecond, r.deliveriesPerSecond,
      r.latencyMs.p50, r.latencyMs.p99, r.latencyMs.max, `${r.complete}/${r.subscribers}`,
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
  return markdownTable(
    ["clients", "jobs done", "failed", "jobs/s", "create p50 ms", "create p99 ms", "end-to-end p50 ms", "end-to-end p99 ms", "CPU runtime/proxy/client/other %"],
    rows.map((r) => [
      r.clients, r.completed, r.failed, Math.round(r.jobsPerSecond * 10) / 10,
      Math.round(r.createMs.p50), Math.round(r.createMs.p99), Math.round(r.endToEndMs.p50), Math.round(r.endToEndMs.p99),
      cpuCell(r.cpu),
    ]),
  );
}

export function costsTable(rows: CostRow[]): string {
  return markdownTable(
    ["job", "state", "run ms", "steps", "events stored", "rows written", "alarms armed", "rows/step", "rows/event"],
    rows.map((r) => [
      r.job, r.state, r.runMs, r.costs.steps, r.costs.eventsStored, r.costs.rowsWritten, r.costs.alarmsArmed,
      Math.round(r.rowsPerStep * 10) / 10, Math.round(r.rowsPerEvent * 100) / 100,
    ]),
  );
}

export function memoryTable(result: MemoryResult): string {
  return markdownTable(
    ["transport", "idle subs", "connect s", "runtime CPU ms/connect", "runtime RSS +MiB", "proxy RSS +MiB", "KiB per subscriber"],
    result.rows.map((r) => [
      transportName[r.transport], r.subscribers, oneDecimal(r.connectMs / 1000), oneDecimal(r.runtimeCpuMsPerConnect),
      oneDecimal(r.runtimeBytes / MiB), oneDecimal(r.proxyBytes / MiB), oneDecimal(r.bytesPerSubscriber / 1024),
    ]),
  );
}

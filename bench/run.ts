// `npm run bench`: starts `wrangler dev` on 127.0.0.1, runs the scenarios, prints their
// tables, writes bench/results/latest.json and stops everything it started, also on
// failure and on Ctrl-C. `npm run bench -- --quick` runs small sizes only.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { createJob } from "./lib/api.ts";
import { runtimeUrl } from "./lib/proc.ts";
import { startBenchServer, type BenchServer } from "./lib/server.ts";
import { subscribeMany, TRANSPORTS } from "./lib/subscribers.ts";
import { Teardown } from "./lib/teardown.ts";
import { ConnectPace } from "./lib/ticker-run.ts";
import { FULL_PLAN, QUICK_PLAN } from "./plan.ts";
import { costsTable, jobsTable, kneeTable, latencyTable, memoryTable } from "./report.ts";
import { measureCosts } from "./scenarios/costs.ts";
import { findKnee, type KneeRow } from "./scenarios/delivery-throughput.ts";
import { measureLatency, type LatencyRow } from "./scenarios/fanout-latency.ts";
import { measureJobThroughput, type JobThroughputRow } from "./scenarios/job-throughput.ts";
import { measureMemory, type MemoryResult } from "./scenarios/memory.ts";

const RESULTS = join(import.meta.dirname, "results/latest.json");
/** Past this, scenarios not yet started are skipped; past the hard limit the run is aborted. */
const SOFT_LIMIT_MS = 7 * 60_000;
const HARD_LIMIT_MS = 9 * 60_000;
/** No single measurement takes this long unless something hangs. */
const UNIT_TIMEOUT_MS = 120_000;

/** Raised so the bench's own load is not refused or truncated by the defaults. */
const VARS = { MAX_SUBSCRIBERS: "20000", MAX_EVENTS: "200000" };

const plan = process.argv.includes("--quick") ? QUICK_PLAN : FULL_PLAN;
const startedAt = Date.now();
let server: BenchServer | null = null;
let stopping: Promise<void> | null = null;
let teardown = new Teardown([]);

function stopServer(): Promise<void> {
  stopping ??= server?.stop() ?? Promise.resolve();
  return stopping;
}

async function abort(reason: string, code: number): Promise<never> {
  console.error(`\nbench: ${reason}; stopping wrangler dev`);
  await stopServer();
  process.exit(code);
}

process.once("SIGINT", () => void abort("interrupted", 130));
process.once("SIGTERM", () => void abort("terminated", 143));
setTimeout(() => void abort(`still running after ${HARD_LIMIT_MS / 60_000} minutes`, 1), HARD_LIMIT_MS).unref();

const results = {
  startedAt: new Date(startedAt).toISOString(),
  machine: machine(),
  plan,
  memory: null as MemoryResult | null,
  latency: [] as LatencyRow[],
  knee: [] as KneeRow[],
  jobs: [] as JobThroughputRow[],
  costs: [] as Awaited<ReturnType<typeof measureCosts>>,
  skipped: [] as string[],
  errors: [] as string[],
  runMs: 0,
};

/**
 * Runs one measurement unless time is up; a failure is recorded and the run goes on.
 * `settle` first waits for the previous run's connections to close (see Teardown).
 */
async function unit<T>(name: string, fn: () => Promise<T>, settle = false): Promise<T | null> {
  if (Date.now() - startedAt > SOFT_LIMIT_MS) {
    results.skipped.push(name);
    console.log(`  skipped ${name}: over the time budget`);
    return null;
  }
  const waited = settle ? await teardown.settle() : 0;
  const t0 = Date.now();
  try {
    const value = await withTimeout(fn(), UNIT_TIMEOUT_MS, name);
    const wait = waited > 500 ? `, after ${(waited / 1000).toFixed(1)} s for the last run's connections to close` : "";
    console.log(`  ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s${wait})`);
    return value;
  } catch (error) {
    results.errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    console.error(`  ${name} FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  } finally {
    teardown.runEnded();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${name} did not finish within ${ms / 1000} s`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main(): Promise<void> {
  console.log(`bench: starting wrangler dev (${plan.name} plan)`);
  server = await startBenchServer(VARS);
  const base = server.url;
  const processes = () => server!.processes();
  const direct = await runtimeUrl(processes());
  teardown = new Teardown([server.port, ...(direct ? [Number(new URL(direct).port)] : [])]);
  await warmUp(base);
  const pace = new ConnectPace();

  // Jobs first: the thousands of subscribers of the later scenarios leave workerd busy closing them.
  console.log("job throughput");
  for (const clients of plan.jobs.clients) {
    const row = await unit(`${clients} clients`, () => measureJobThroughput({ base, processes: processes(), clients, seconds: plan.jobs.seconds }));
    if (row) results.jobs.push(row);
  }

  console.log("costs");
  results.costs = (await unit("cost counters", () => measureCosts(base))) ?? [];

  console.log("memory with idle subscribers");
  results.memory = await unit(`memory, ${plan.memory.subscribers} idle per transport`, () =>
    measureMemory(base, processes(), TRANSPORTS, plan.memory.subscribers), true);

  console.log("fan-out latency");
  for (const { transport, sizes } of plan.latency.runs) {
    for (const subscribers of sizes) {
      teardown.hold(pace);
      const row = await unit(`${transport} × ${subscribers}`, () =>
        measureLatency({ base, via: "wrangler dev", processes: processes(), transport, subscribers, rate: plan.latency.rate, seconds: plan.latency.seconds, pace }));
      if (row) results.latency.push(row);
    }
  }
  for (const { transport, subscribers } of plan.latency.direct) {
    if (!direct) break;
    teardown.hold(pace);
    const row = await unit(`${transport} × ${subscribers}, runtime port`, () =>
      measureLatency({ base: direct, via: "runtime", processes: processes(), transport, subscribers, rate: plan.latency.rate, seconds: plan.latency.seconds, pace }));
    if (row) results.latency.push(row);
  }

  console.log("delivery throughput");
  for (const { transport, subscribers } of plan.knee) {
    teardown.hold(pace);
    const row = await unit(`${transport} × ${subscribers}`, () => findKnee({ base, processes: processes(), transport, subscribers, pace }));
    if (row) results.knee.push(row);
  }
}

/** First requests compile the Worker's code paths; the memory baseline should include that. */
async function warmUp(base: string): Promise<void> {
  const job = await createJob(base, "ticker", { count: 5, intervalMs: 20, startAt: Date.now() + 500 });
  const sets = await Promise.all(TRANSPORTS.map((transport) => subscribeMany({ base, jobId: job.id, transport, subscribers: 5, events: 5 })));
  await Promise.all(sets.map((set) => set.ended(Date.now() + 10_000)));
  sets.forEach((set) => set.close());
}

function machine() {
  const wrangler = JSON.parse(readFileSync(join(import.meta.dirname, "../node_modules/wrangler/package.json"), "utf8")) as { version: string };
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, wrangler: wrangler.version };
}

function printTables(): void {
  const m = results.machine;
  console.log(`\n## Results (${m.cpus} cores, ${m.memoryGiB} GiB, Node ${m.node}, wrangler ${m.wrangler}; run ${Math.round(results.runMs / 1000)} s)\n`);
  if (results.latency.length) console.log(`### Fan-out latency (${plan.latency.rate} events/s for ${plan.latency.seconds} s)\n\n${latencyTable(results.latency)}\n`);
  if (results.knee.length) console.log(`### Delivery throughput\n\n${kneeTable(results.knee)}\n`);
  if (results.jobs.length) console.log(`### Job throughput (demo job: 3 steps, 3 sleeps)\n\n${jobsTable(results.jobs)}\n`);
  if (results.costs.length) console.log(`### Cost counters per job\n\n${costsTable(results.costs)}\n`);
  if (results.memory) console.log(`### Memory with idle subscribers\n\n${memoryTable(results.memory)}\n`);
  for (const name of results.skipped) console.log(`skipped: ${name}`);
  for (const error of results.errors) console.log(`error: ${error}`);
}

try {
  await main();
} catch (error) {
  results.errors.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
  console.error(error);
} finally {
  await stopServer();
}
results.runMs = Date.now() - startedAt;
mkdirSync(join(import.meta.dirname, "results"), { recursive: true });
writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
printTables();
console.log(`\nwrote ${RESULTS}`);
process.exit(results.errors.length ? 1 : 0);

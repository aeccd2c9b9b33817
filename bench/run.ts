// `npm run bench`: starts `wrangler dev -c bench/wrangler.toml` on 127.0.0.1 (the app with
// the bench's job types, and the floor contenders), runs the scenarios, prints their
// tables, writes bench/results/latest.json and stops everything it started, also on
// failure and on Ctrl-C. `npm run bench -- --quick` runs small sizes only;
// `--only=jobs,costs,memory,replay,latency,knee` runs some of the scenarios (with either plan);
// `--profile` adds a CPU profile of each contender's job-throughput run; `--subscribers=N`
// runs every fan-out comparison at N subscribers; `--floor-first` measures the floor
// before the project in each of them (the second of a pair pays a little more);
// `--transports=sse,text,text,sse` runs only ours, over those transports in that order;
// `--seconds=N` has each fan-out run publish for N seconds (its steady state, not its start);
// `--port=N` serves it on that port rather than a free one; `--without-rate-limits` drops the
// config's Rate Limiting bindings (see bench/lib/server.ts); `--rounds=N` measures each
// job-throughput comparison N times (see below).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { createFloorJob, createJob, tickerFrames, waitForEnd, type TickerFrames } from "./lib/api.ts";
import { cpuSeconds, runtimeUrl, type DevProcesses } from "./lib/proc.ts";
import { startBenchServer, withoutRateLimits, type BenchServer } from "./lib/server.ts";
import { streamUrl, subscribeMany, TRANSPORTS, type Transport } from "./lib/subscribers.ts";
import { Teardown } from "./lib/teardown.ts";
import { ConnectPace } from "./lib/ticker-run.ts";
import { FULL_PLAN, QUICK_PLAN, type Plan } from "./plan.ts";
import { RuntimeInspector, summarizeProfile, type ProfileLine } from "./lib/inspector.ts";
import { compare, comparisonTables, costsTable, jobsTable, kneeTable, latencyTable, memoryTable, profileTable, replayTable, type Comparison } from "./report.ts";
import { measureCosts, PRICES } from "./scenarios/costs.ts";
import { findKnee, type KneeRow } from "./scenarios/delivery-throughput.ts";
import { measureLatency, type LatencyRow } from "./scenarios/fanout-latency.ts";
import { floorJob, measureFrames, measureJobThroughput, projectJob, warmJobs, type FrameShape, type JobThroughputRow } from "./scenarios/job-throughput.ts";
import { measureMemory, type MemoryResult } from "./scenarios/memory.ts";
import { measureReplay, type ReplayResult } from "./scenarios/replay.ts";

const RESULTS = join(import.meta.dirname, "results/latest.json");
/** Past this, scenarios not yet started are skipped; past the hard limit the run is aborted. */
const SOFT_LIMIT_MS = 12 * 60_000;
const HARD_LIMIT_MS = 14 * 60_000;
/** Each contender's jobs before its first measured run, untimed (at most `seconds`). */
const JOB_WARM_UP = { jobs: 600, clients: 10, seconds: 20 };
/** No single measurement takes this long unless something hangs. */
const UNIT_TIMEOUT_MS = 120_000;

/** Raised so the bench's own load is not refused or cut short by the defaults (bench/wrangler.toml has the rest). */
const VARS = {
  MAX_SUBSCRIBERS: "20000",
  MAX_SUBSCRIBERS_PER_CLIENT: "20000",
  JOB_BUDGET: "steps=10000, events=200000, bytes=64 MiB, runTime=7 days",
};

/** The project's job in the job-throughput comparison; the floor's job sends the frames it sends. */
const SHORT_JOB = { label: "demo, intervalMs 0", type: "demo", input: { intervalMs: 0 } };

const flag = (name: string) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const plan = withSeconds(withTransports(withSubscribers(process.argv.includes("--quick") ? QUICK_PLAN : FULL_PLAN, flag("subscribers")), flag("transports")), flag("seconds"));
const floorFirst = process.argv.includes("--floor-first");
const port = portFlag(flag("port"));
/**
 * `--rounds=N` (1 to 10; 1 by default): each job-throughput comparison is measured N times,
 * its contenders in a rotated order each round, and the comparison shows each ratio's
 * median and range over the rounds. This machine's speed drifts by ±20–30 % over minutes,
 * more than most differences measured; the median of rounds taken side by side drifts less.
 */
const rounds = parseRounds(flag("rounds"));
function parseRounds(value: string | undefined): number {
  const n = value === undefined ? 1 : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10) throw new Error(`--rounds=${value}: a whole number from 1 to 10`);
  return n;
}
const rotated = <T>(items: T[], by: number): T[] => items.map((_, i) => items[(i + by) % items.length]!);

/** `--profile`: a CPU profile of each contender's job-throughput run at 10 clients (or the plan's first size). */
const profiling = process.argv.includes("--profile");
const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice("--only=".length).split(",");
const runs = (scenario: "jobs" | "costs" | "memory" | "replay" | "latency" | "knee") => !only || only.includes(scenario);
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
  vars: VARS,
  /** `--without-rate-limits`: the creates skipped wrangler dev's stand-in for the Rate Limiting binding. */
  withoutRateLimits,
  /** `--rounds`: how many times each job-throughput comparison was measured. */
  rounds,
  prices: PRICES,
  /** The runtime's and the proxy's CPU seconds per second while idle, taken off the CPU per job. */
  idleCpu: { runtime: 0, proxy: 0 },
  /** What the compared jobs do: the project's job, and the floor's job sized from its frames. */
  jobsCompared: null as { project: string; floor: string; frames: FrameShape } | null,
  /** What the floor's ticker sends besides its ticks: what the project's sends (fan-out runs). */
  tickerFrames: null as TickerFrames | null,
  comparison: null as Comparison | null,
  memory: null as MemoryResult | null,
  replay: null as ReplayResult | null,
  latency: [] as LatencyRow[],
  knee: [] as KneeRow[],
  jobs: [] as JobThroughputRow[],
  costs: [] as Awaited<ReturnType<typeof measureCosts>>,
  /** With --profile: where the runtime's JavaScript thread spent the job-throughput runs. */
  profiles: [] as { name: string; lines: ProfileLine[]; error?: string }[],
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
  console.log(`bench: starting wrangler dev -c bench/wrangler.toml (${plan.name} plan)`);
  server = await startBenchServer(VARS, port);
  const base = server.url;
  const processes = () => server!.processes();
  const direct = await runtimeUrl(processes());
  const ports = [server.port, ...(direct ? [Number(new URL(direct).port)] : [])];
  teardown = new Teardown(ports);
  const { frames, ticker } = await warmUp(base);
  results.tickerFrames = ticker;
  await teardown.settle();
  results.idleCpu = await idleCpu(processes());
  const pace = new ConnectPace();

  // Jobs first: the thousands of subscribers of the later scenarios leave workerd busy closing them.
  if (runs("jobs")) console.log("job throughput");
  const floorLabel = `snapshot + ${frames.events} event frames of ~${frames.eventChars} characters, sent as the subscriber connects`;
  results.jobsCompared = { project: `${SHORT_JOB.label} (${frames.events} events)`, floor: floorLabel, frames };
  const floorInput = { snapshotChars: frames.snapshotChars, events: frames.events, eventChars: frames.eventChars };
  const kinds = [projectJob(SHORT_JOB.label, SHORT_JOB.type, SHORT_JOB.input), floorJob(floorLabel, floorInput), floorJob(floorLabel, floorInput, true)];
  const profiledClients = plan.jobs.clients.includes(10) ? 10 : plan.jobs.clients[0];
  // Every contender's job path is warmed first, untimed: V8 tiers our code up over its first
  // several hundred jobs (0.7–0.9 optimizations a job over the first 200, 0.1 after 600 and
  // more, counted by bench/wakeups.ts), which the first measured runs (ours at 1 and at 10
  // clients) paid; the floor's code is a few functions, warm after a few jobs.
  for (const job of runs("jobs") ? kinds : []) {
    await unit(`${job.contender}, warm-up (${JOB_WARM_UP.jobs} jobs, ${JOB_WARM_UP.clients} clients, not measured)`, () => warmJobs(base, job, JOB_WARM_UP), true);
  }
  for (const clients of runs("jobs") ? plan.jobs.clients : []) {
    for (let round = 1; round <= rounds; round++) {
      // Each round starts one contender later: the one measured first in a round does not pay
      // for the others' connections closing, and the machine drifts (see --rounds).
      for (const job of rotated(kinds, round - 1)) {
        const measure = () => measureJobThroughput({ base, processes: processes(), job, clients, round, seconds: plan.jobs.seconds, settle: () => teardown.settle(), idle: results.idleCpu });
        const row = await unit(`${job.contender}, ${clients} clients${rounds > 1 ? `, round ${round} of ${rounds}` : ""}`, measure, true);
        if (row) results.jobs.push(row);
        // A run of its own: the profiler's overhead stays out of the figures above.
        if (profiling && clients === profiledClients && round === 1) await unit(`${job.contender}, ${clients} clients, profiled`, () => profiled(`${job.contender}, ${clients} clients`, measure), true);
      }
    }
  }

  if (runs("costs")) {
    console.log("costs");
    results.costs = (await unit("usage of each job", () => measureCosts(base), true)) ?? [];
  }

  if (runs("memory")) {
    console.log("memory with idle and stalled viewers");
    results.memory = await unit(`memory, ${plan.memory.idle} idle per transport, ${plan.memory.stalled} stalled per transport`, () =>
      measureMemory({ base, processes: processes(), ports, transports: TRANSPORTS, idle: plan.memory.idle, stalled: plan.memory.stalled }), true);
  }

  if (runs("replay")) {
    console.log("replay of a long history");
    results.replay = await unit(`replay, ${plan.replay.events} events`, () => measureReplay({ base, processes: processes(), events: plan.replay.events }), true);
  }

  console.log("fan-out latency");
  const latency = async (contender: LatencyRow["contender"], transport: LatencyRow["transport"], subscribers: number, via: LatencyRow["via"], url: string) => {
    teardown.hold(pace);
    const name = `${contender === "project" ? "" : `${contender} `}${transport} × ${subscribers}${via === "runtime" ? ", runtime port" : ""}`;
    const row = await unit(name, () =>
      measureLatency({ base: url, contender, via, processes: processes(), transport, subscribers, rate: plan.latency.rate, seconds: plan.latency.seconds, pace, floorFrames: ticker }));
    if (row) results.latency.push(row);
  };
  for (const { transport, sizes } of runs("latency") ? plan.latency.runs : []) {
    for (const subscribers of sizes) {
      const floors = async () => {
        if (transport === "ws" && plan.latency.floor.includes(subscribers)) await latency("floor", "ws", subscribers, "wrangler dev", base);
        if (transport === "sse" && plan.latency.floorSse.includes(subscribers)) {
          await latency("floor", "sse", subscribers, "wrangler dev", base);
          await latency("floor-bridged", "sse", subscribers, "wrangler dev", base);
        }
      };
      if (floorFirst) await floors();
      await latency("project", transport, subscribers, "wrangler dev", base);
      if (!floorFirst) await floors();
    }
  }
  for (const { transport, subscribers } of runs("latency") ? plan.latency.direct : []) {
    if (direct) await latency("project", transport, subscribers, "runtime", direct);
  }

  console.log("delivery throughput");
  for (const { transport, subscribers } of runs("knee") ? plan.knee : []) {
    teardown.hold(pace);
    const row = await unit(`${transport} × ${subscribers}`, () => findKnee({ base, processes: processes(), transport, subscribers, pace, ladder: plan.kneeLadder }));
    if (row) results.knee.push(row);
  }
}

/** Runs `fn` under the runtime's CPU profiler (with a 400 µs sampling interval, the profile of a few seconds stays small). */
async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const inspector = await RuntimeInspector.open(server!.processes());
  if (!inspector) {
    results.profiles.push({ name, lines: [], error: RuntimeInspector.lastError });
    return fn();
  }
  try {
    await inspector.startProfile(400);
    const value = await fn();
    results.profiles.push({ name, lines: summarizeProfile(await inspector.stopProfile(), 15) });
    return value;
  } finally {
    inspector.close();
  }
}

/**
 * First requests compile the Worker's code paths; the memory baseline should include that.
 * Returns the frames a subscriber of the project's short job gets, and what its ticker sends
 * besides ticks, which the floor's jobs copy.
 */
async function warmUp(base: string): Promise<{ frames: FrameShape; ticker: TickerFrames }> {
  const startAt = Date.now() + 500;
  const job = await createJob(base, "ticker", { count: 5, intervalMs: 20, startAt });
  const sets = await Promise.all(TRANSPORTS.map((transport) => subscribeMany({ url: streamUrl(base, job.id, transport), transport, subscribers: 5, events: 5 })));
  await Promise.all(sets.map((set) => set.ended(Date.now() + 10_000)));
  sets.forEach((set) => set.close());
  const ticker = await tickerFrames(base, job.id, startAt);
  const short = await createJob(base, SHORT_JOB.type, SHORT_JOB.input);
  await waitForEnd(base, short.id, 10_000);
  const frames = await measureFrames(short.urls.ws);
  const floor = await createFloorJob(base, "burst", { snapshotChars: frames.snapshotChars, events: frames.events, eventChars: frames.eventChars });
  const copy = await measureFrames(floor.ws);
  if (copy.events !== frames.events) throw new Error(`The floor sent ${copy.events} event frames, not ${frames.events}`);
  return { frames, ticker };
}

/** The runtime's and the proxy's CPU use while nothing runs, in CPU seconds per second. */
async function idleCpu(processes: DevProcesses): Promise<{ runtime: number; proxy: number }> {
  const ms = 2_000;
  const before = { runtime: cpuSeconds(processes.runtime), proxy: cpuSeconds(processes.proxy) };
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { runtime: (cpuSeconds(processes.runtime) - before.runtime) / (ms / 1000), proxy: (cpuSeconds(processes.proxy) - before.proxy) / (ms / 1000) };
}

/** `--port=N`: wrangler dev's port, if given (else a free one). */
function portFlag(arg: string | undefined): number | undefined {
  if (arg === undefined) return undefined;
  const n = Number(arg);
  if (!Number.isSafeInteger(n) || n < 1 || n > 65_535) throw new Error("--port takes a port number from 1 to 65535");
  return n;
}

/** The plan with every fan-out run (ours, and the floor's where the plan has one) at `arg` subscribers, if given. */
function withSubscribers(base: Plan, arg: string | undefined): Plan {
  if (arg === undefined) return base;
  const n = Number(arg);
  if (!Number.isSafeInteger(n) || n < 1 || n > 20_000) throw new Error("--subscribers takes a number from 1 to 20000");
  const at = (sizes: number[]) => (sizes.length ? [n] : []);
  const latency = base.latency;
  return { ...base, latency: { ...latency, runs: latency.runs.map((run) => ({ ...run, sizes: [n] })), floor: at(latency.floor), floorSse: at(latency.floorSse) } };
}

/**
 * `--transports=sse,text,text,sse`: the fan-out runs are ours only, over these transports
 * in this order (repeats allowed, to measure two transports in both orders), at the
 * plan's first size; no floor.
 */
function withTransports(base: Plan, arg: string | undefined): Plan {
  if (arg === undefined) return base;
  const transports = arg.split(",");
  const bad = transports.find((t) => !TRANSPORTS.includes(t as Transport));
  if (bad !== undefined || transports.length > 8) throw new Error(`--transports takes up to 8 of ${TRANSPORTS.join(", ")}, comma-separated`);
  const sizes = base.latency.runs[0]!.sizes.slice(0, 1);
  return { ...base, latency: { ...base.latency, runs: transports.map((transport) => ({ transport: transport as Transport, sizes })), floor: [], floorSse: [] } };
}

/**
 * `--seconds=N` (1 to 30): each fan-out run publishes for N seconds rather than the plan's
 * 2 or 3. A short run's p99 is a few ticks' (at 5 events/s for 3 s, 15 ticks: each is 7 %
 * of the deliveries), so how the run starts weighs on it; a long one measures the steady
 * state. At most 30: a run's connecting, publishing and draining (up to 3× its publishing
 * and 10 s) stay within UNIT_TIMEOUT_MS.
 */
function withSeconds(base: Plan, arg: string | undefined): Plan {
  if (arg === undefined) return base;
  const n = Number(arg);
  if (!Number.isSafeInteger(n) || n < 1 || n > 30) throw new Error("--seconds takes a number from 1 to 30");
  return { ...base, latency: { ...base.latency, seconds: n } };
}

function machine() {
  const wrangler = JSON.parse(readFileSync(join(import.meta.dirname, "../node_modules/wrangler/package.json"), "utf8")) as { version: string };
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, wrangler: wrangler.version };
}

function printTables(): void {
  const m = results.machine;
  console.log(`\n## Results (${m.cpus} cores, ${m.memoryGiB} GiB, Node ${m.node}, wrangler ${m.wrangler}; run ${Math.round(results.runMs / 1000)} s${withoutRateLimits ? "; without the Rate Limiting bindings" : ""})\n`);
  if (results.comparison && results.jobsCompared) {
    const text = comparisonTables(results.comparison, results.jobsCompared);
    if (text) console.log(`### live-jobs against the floor (a bare Worker + Durable Object)\n\n${text}\n`);
  }
  if (results.latency.length) console.log(`### Fan-out latency (${plan.latency.rate} events/s for ${plan.latency.seconds} s)\n\n${latencyTable(results.latency)}\n`);
  if (results.knee.length) console.log(`### Delivery throughput\n\n${kneeTable(results.knee)}\n`);
  if (results.jobs.length) console.log(`### Job throughput (live-jobs: ${results.jobsCompared?.project}; floor: ${results.jobsCompared?.floor})\n\n${jobsTable(results.jobs)}\n`);
  for (const { name, lines, error } of results.profiles) console.log(`### CPU profile: ${name}\n\n${error ? `no profile: ${error}` : profileTable(lines)}\n`);
  if (results.costs.length) console.log(`### Costs per job ($${PRICES.perMillionRowsWritten.toFixed(2)} per million rows written, $${PRICES.perMillionRequests.toFixed(2)} per million requests)\n\n${costsTable(results.costs)}\n`);
  if (results.memory) console.log(`### Memory per viewer\n\n${memoryTable(results.memory)}\n${results.memory.notes.map((note) => `\n${note}`).join("")}`);
  if (results.replay) console.log(`### Replay of a finished job's ${results.replay.events.toLocaleString("en-US")} events by one reader\n\n${replayTable(results.replay)}\n`);
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
results.comparison = compare(results.jobs, results.latency);
mkdirSync(join(import.meta.dirname, "results"), { recursive: true });
writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
printTables();
console.log(`\nwrote ${RESULTS}`);
process.exit(results.errors.length ? 1 : 0);

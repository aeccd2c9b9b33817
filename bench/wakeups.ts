// `node bench/wakeups.ts`: what one job costs the runtime workerd, counted rather than timed,
// for each contender's job (the project's `demo`, the floor's, the durable floor's, as in
// the job-throughput scenario), run JOBS times by CLIENTS clients. The counts do not move
// with the machine's load as CPU time does, so they show what differs between contenders
// and between 1 and 50 clients. Printed per job, in the jobs' window (first create to
// last terminal event):
//   - the runtime's CPU (user + system), and each thread's; context switches;
//   - with --count=runtime (the default; needs root, perf and nm): the runtime's own
//     events through uprobes on the workerd binary, which this script adds and removes:
//     isolate entries (workerd::Worker::Lock, taken for every event delivered to
//     JavaScript: a request, an RPC call or its result, an I/O completion, a timer, an
//     alarm, a WebSocket event), SQLite commits (ActorSqlite::commitImpl),
//     storage.sync() calls, JavaScript timers armed and cleared, V8 optimizations
//     requested (TieringManager::Optimize), deoptimizations and garbage collections; and syscalls:
//     epoll_wait (and how many of them are zero-timeout polls), fsync;
//   - with --count=strace: every syscall of every runtime thread, by name (strace -f;
//     slows the runtime several-fold, so its CPU figures mean little then);
//   - with --entries: what the isolate entries were, from their native stacks (perf
//     record; a few jobs are enough: --jobs=10);
//   - with --samples: where the runtime's CPU went, in ms per job by kind (JavaScript, the
//     rest of V8, SQLite, the runtime's own code, the kernel's fsyncs...: bench/lib/samples.ts),
//     from samples of its threads' stacks (perf record at SAMPLE_HZ).
// Options: --clients=1,50 (each in turn) --jobs=200 --warmup=200 (untimed jobs of each
// contender first) --repeat=1 --only=live-jobs,floor,floor-durable --think=0 (ms a client
// waits between jobs) --without-rate-limits (see bench/lib/server.ts).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFloorJob, createJob, type Created, type FloorInput } from "./lib/api.ts";
import { runtimeUrl } from "./lib/proc.ts";
import { samplesByKind } from "./lib/samples.ts";
import { startBenchServer, withoutRateLimits } from "./lib/server.ts";
import { Teardown } from "./lib/teardown.ts";
import { measureFrames, watchUntilEnd } from "./scenarios/job-throughput.ts";

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const CLIENTS = arg("clients", "1").split(",").map(Number);
const JOBS = Number(arg("jobs", "200"));
const WARMUP = Number(arg("warmup", "200"));
const REPEAT = Number(arg("repeat", "1"));
const ONLY = arg("only", "live-jobs,floor,floor-durable").split(",");
const THINK_MS = Number(arg("think", "0"));
const COUNT = arg("count", "runtime") as "runtime" | "strace" | "none";
const ENTRIES = process.argv.includes("--entries");
const SAMPLES = process.argv.includes("--samples");
/** Samples a second per thread: one every ~0.33 ms of CPU, a few thousand for a run of 200 jobs. */
const SAMPLE_HZ = 2999;
/** As in bench/run.ts. */
const VARS = { MAX_SUBSCRIBERS: "20000", MAX_SUBSCRIBERS_PER_CLIENT: "20000", JOB_BUDGET: "steps=10000, events=200000, bytes=64 MiB, runTime=7 days" };

/** The workerd functions counted, by uprobe name: mangled symbol. */
const PROBES: Record<string, string> = {
  isolateEntries: "_ZN7workerd6Worker4LockC1ERKS0_NS0_8LockTypeERNS_3jsg12V8StackScopeE",
  sqliteCommits: "_ZN7workerd11ActorSqlite10commitImplENS0_19PrecommitAlarmStateENS_10SpanParentE",
  storageSyncs: "_ZN7workerd3api20DurableObjectStorage4syncERNS_3jsg4LockE",
  timersArmed: "_ZN7workerd9IoContext18TimeoutManagerImpl12TimeoutStateC1ERS1_NS_14TimeoutManager17TimeoutParametersE",
  timersCleared: "_ZN7workerd3api24ServiceWorkerGlobalScope12clearTimeoutERNS_3jsg4LockEN2kj5MaybeINS2_8JsNumberEEE",
  v8Optimizations: "_ZN2v88internal14TieringManager8OptimizeENS0_6TaggedINS0_10JSFunctionEEENS0_20OptimizationDecisionE",
  v8Deoptimizations: "_ZN2v88internal11Deoptimizer3NewEmNS0_14DeoptimizeKindEmiPNS0_7IsolateE",
  v8Scavenges: "_ZN2v88internal18ScavengerCollector14CollectGarbageEv",
  v8MarkCompacts: "_ZN2v88internal20MarkCompactCollector14CollectGarbageEv",
};
const SYSCALLS = [
  ["epollWaits", "syscalls:sys_enter_epoll_wait", null],
  ["epollZeroPolls", "syscalls:sys_enter_epoll_wait", "timeout == 0"],
  ["fsyncs", "syscalls:sys_enter_fsync", null],
] as const;

const createDemo = async (base: string): Promise<Created> => {
  const job = await createJob(base, "demo", { intervalMs: 0 });
  return { id: job.id, ws: job.urls.ws };
};

function userSystem(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(f[11]) / 100, Number(f[12]) / 100];
}

/** Per thread ("tid name"): CPU seconds, voluntary and involuntary context switches. */
function threads(pid: number): Map<string, { cpu: number; voluntary: number; involuntary: number }> {
  const out = new Map<string, { cpu: number; voluntary: number; involuntary: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(`${tid} ${stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))}`, {
        cpu: (Number(f[11]) + Number(f[12])) / 100,
        voluntary: Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0),
        involuntary: Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0),
      });
    } catch {
      // The thread ended while we looked.
    }
  }
  return out;
}

/** Uprobes on the runtime's binary, under a group of this process's own; removed by `remove`. */
function addProbes(binary: string): { group: string; remove(): void } {
  const tracefs = "/sys/kernel/tracing/uprobe_events";
  const group = `livejobs${process.pid}`;
  const symbols = new Map<string, number>();
  for (const line of execFileSync("nm", [binary], { maxBuffer: 1 << 30, encoding: "utf8" }).split("\n")) {
    const [address, , name] = line.split(" ");
    if (name && address) symbols.set(name, parseInt(address, 16));
  }
  // Virtual address → file offset, by the LOAD segment that holds it.
  const segments = execFileSync("readelf", ["-lW", binary], { encoding: "utf8" }).split("\n").filter((l) => l.trim().startsWith("LOAD"))
    .map((l) => l.trim().split(/\s+/)).map((c) => ({ offset: parseInt(c[1]!, 16), vaddr: parseInt(c[2]!, 16), size: parseInt(c[5]!, 16) }));
  const added: string[] = [];
  const remove = () => {
    for (const name of added) {
      try {
        appendFileSync(tracefs, `-:${group}/${name}\n`);
      } catch {
        // already gone
      }
    }
  };
  try {
    for (const [name, symbol] of Object.entries(PROBES)) {
      const address = symbols.get(symbol);
      const segment = address === undefined ? undefined : segments.find((s) => address >= s.vaddr && address < s.vaddr + s.size);
      if (address === undefined || !segment) throw new Error(`${symbol} not found in ${binary} (another workerd version?)`);
      appendFileSync(tracefs, `p:${group}/${name} ${binary}:0x${(address - segment.vaddr + segment.offset).toString(16)}\n`);
      added.push(name);
    }
  } catch (error) {
    remove();
    throw error;
  }
  return { group, remove };
}

if (COUNT === "strace" && spawnSync("strace", ["-V"]).status !== 0) throw new Error("--count=strace needs strace");
if ((COUNT === "runtime" || ENTRIES || SAMPLES) && spawnSync("perf", ["--version"]).status !== 0) throw new Error("--count=runtime, --entries and --samples need perf (or --count=none)");

const server = await startBenchServer(VARS);
const trace = join(tmpdir(), `live-jobs-wakeups-${process.pid}`);
let probes: { group: string; remove(): void } | null = null;
try {
  const runtime = server.processes().runtime;
  if (COUNT === "runtime" || ENTRIES) probes = addProbes(readlinkSync(`/proc/${runtime}/exe`));
  const direct = await runtimeUrl(server.processes());
  const teardown = new Teardown([server.port, ...(direct ? [Number(new URL(direct).port)] : [])]);
  const frames: FloorInput = await measureFrames((await createDemo(server.url)).ws);
  const contenders = [
    { name: "live-jobs", create: createDemo },
    { name: "floor", create: (base: string) => createFloorJob(base, "burst", frames) },
    { name: "floor-durable", create: (base: string) => createFloorJob(base, "durable", frames) },
  ].filter((c) => ONLY.includes(c.name));
  const run = async (create: (base: string) => Promise<Created>, jobs: number, clients: number) => {
    let started = 0;
    const client = async () => {
      while (started < jobs) {
        started++;
        await watchUntilEnd((await create(server.url)).ws);
        if (THINK_MS > 0) await new Promise((resolve) => setTimeout(resolve, THINK_MS));
      }
    };
    await Promise.all(Array.from({ length: clients }, client));
  };
  // Untimed: V8 compiles and optimizes each contender's code as it first runs.
  for (const contender of contenders) await run(contender.create, WARMUP, 10);
  for (let round = 0; round < REPEAT; round++) for (const clients of CLIENTS) for (const contender of contenders) {
    await teardown.settle();
    const counter = COUNT === "runtime" ? spawn("perf", ["stat", "-x", ",", "-o", `${trace}.stat`, ...Object.keys(PROBES).flatMap((name) => ["-e", `${probes!.group}:${name}`]),
      ...SYSCALLS.flatMap(([, event, filter]) => ["-e", event, ...(filter ? ["--filter", filter] : [])]), "-p", String(runtime)], { stdio: "ignore" })
      : COUNT === "strace" ? spawn("strace", ["-f", "-ttt", "-o", `${trace}.strace`, "-p", String(runtime)], { stdio: "ignore" })
      : null;
    const sampler = SAMPLES ? spawn("perf", ["record", "-F", String(SAMPLE_HZ), "-g", "-p", String(runtime), "-o", `${trace}.cpu`], { stdio: "ignore" }) : null;
    const recorder = ENTRIES ? spawn("perf", ["record", "-e", `${probes!.group}:isolateEntries`, "--call-graph", "dwarf,16384", "-p", String(runtime), "-o", `${trace}.perf`], { stdio: "ignore" }) : null;
    await new Promise((resolve) => setTimeout(resolve, counter || recorder || sampler ? 1_500 : 500)); // attached
    const from = Date.now() / 1000;
    const cpu0 = userSystem(runtime);
    const threads0 = threads(runtime);
    await run(contender.create, JOBS, clients);
    const to = Date.now() / 1000;
    const cpu1 = userSystem(runtime);
    const threads1 = threads(runtime);
    for (const child of [counter, recorder, sampler]) {
      if (!child) continue;
      const exited = child.exitCode === null ? new Promise((resolve) => child.once("exit", resolve)) : null;
      child.kill("SIGINT");
      await exited;
    }
    const perJob = (n: number) => (n / JOBS).toFixed(2);
    const ms = (s: number) => ((s * 1000) / JOBS).toFixed(2);
    console.log(`\n## ${contender.name}, ${JOBS} jobs, ${clients} clients (${(to - from).toFixed(2)} s)${withoutRateLimits ? ", without the Rate Limiting bindings" : ""}`);
    console.log(`runtime CPU ms/job: ${ms(cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1])} (user ${ms(cpu1[0] - cpu0[0])}, system ${ms(cpu1[1] - cpu0[1])})`);
    const rows = [...threads1].map(([name, t]) => ({ name, t, t0: threads0.get(name) ?? { cpu: 0, voluntary: 0, involuntary: 0 } }));
    console.log("threads: " + rows.filter(({ t, t0 }) => t.cpu > t0.cpu || t.voluntary > t0.voluntary)
      .map(({ name, t, t0 }) => `${name}: CPU ${ms(t.cpu - t0.cpu)} ms/job, ${perJob(t.voluntary - t0.voluntary)} voluntary + ${perJob(t.involuntary - t0.involuntary)} involuntary switches/job`).join("; "));
    if (COUNT === "runtime") {
      const names = [...Object.keys(PROBES), ...SYSCALLS.map(([name]) => name)];
      const counts = readFileSync(`${trace}.stat`, "utf8").split("\n").filter((l) => /^\d/.test(l)).map((l) => Number(l.split(",")[0]));
      console.log("per job: " + names.map((name, i) => `${name} ${perJob(counts[i] ?? NaN)}`).join(", "));
    }
    if (COUNT === "strace") console.log(syscallsPerJob(readFileSync(`${trace}.strace`, "utf8"), from, to));
    if (SAMPLES) console.log(cpuPerJob(execFileSync("perf", ["script", "-i", `${trace}.cpu`, "-F", "ip,sym,dso"], { maxBuffer: 1 << 30, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })));
    if (ENTRIES) console.log(entriesPerJob(execFileSync("perf", ["script", "-i", `${trace}.perf`], { maxBuffer: 1 << 30, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })));
  }
} finally {
  for (const suffix of [".stat", ".strace", ".perf", ".perf.old", ".cpu", ".cpu.old"]) rmSync(`${trace}${suffix}`, { force: true });
  probes?.remove();
  await server.stop();
}

/** Syscalls per job by thread and name, in the jobs' window; epoll_wait split by timeout (0: a poll). */
function syscallsPerJob(text: string, from: number, to: number): string {
  const byThread = new Map<string, Map<string, number>>();
  for (const line of text.split("\n")) {
    const m = /^(\d+)\s+(\d+\.\d+)\s+(?:<\.\.\. )?(\w+)(.*)$/.exec(line);
    if (!m || m[4]!.trimEnd().endsWith("<unfinished ...>")) continue; // counted when resumed
    const at = Number(m[2]);
    if (at < from || at > to) continue;
    const name = /^epoll_p?wait$/.test(m[3]!) ? `${m[3]}(${/, 0\)\s+=/.test(m[4]!) ? "0" : "timeout"})` : m[3]!;
    const counts = byThread.get(m[1]!) ?? byThread.set(m[1]!, new Map()).get(m[1]!)!;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...byThread].map(([tid, counts]) => {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    return `thread ${tid}: ${(total / JOBS).toFixed(1)} syscalls/job: ` + [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${(n / JOBS).toFixed(1)}`).join(", ");
  }).join("\n");
}

/** Isolate entries per job by what the runtime was doing when it took the lock: the first frame that names an event. */
function entriesPerJob(script: string): string {
  const kinds: [RegExp, string][] = [
    [/requestImpl/, "HTTP request delivered (the Worker's fetch, an object's fetch, a binding's service)"],
    [/JsRpcTargetBase::JsRpcTargetBase/, "RPC call delivered"],
    [/awaitIoImpl<capnp::Response<workerd::rpc::JsRpcTarget::CallResults>/, "RPC result resumes its caller"],
    [/awaitIoImpl<kj::HttpClient::Response/, "fetch response resumes its caller"],
    [/awaitIoImpl<kj::(OneOf<)?kj::HttpClient::WebSocketResponse/, "WebSocket upgrade response resumes its caller"],
    [/awaitIoImpl<kj::String/, "body read (text/json) resumes"],
    [/FetchEvent::respondWith/, "respondWith completes"],
    [/awaitIoImpl<void, .{0,80}IdentityFunc<void>/, "I/O without a value resumes (storage.sync(), ...)"],
    [/blockConcurrencyWhileImpl/, "blockConcurrencyWhile"],
    [/TimeoutManagerImpl/, "timer fires"],
    [/runAlarm/, "alarm"],
    [/HibernatableWebSocketCustomEvent/, "hibernatable WebSocket event (message, close)"],
    [/ensureConstructedImpl/, "object constructed"],
    [/finish_eviction/, "object evicted"],
  ];
  const counts = new Map<string, number>();
  for (const sample of script.split("\n\n")) {
    if (!sample.includes(":isolateEntries:")) continue;
    const frames = sample.split("\n").slice(1, 9).join("\n"); // the lock's own frames, then the event's
    const kind = kinds.find(([pattern]) => pattern.test(frames))?.[1] ?? "other";
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return `isolate entries per job, by event (${(total / JOBS).toFixed(1)} in all):\n` + [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${(n / JOBS).toFixed(1)}  ${k}`).join("\n");
}

/** `perf script` of --samples: CPU ms per job by kind, each sample 1/SAMPLE_HZ s of one thread's CPU. */
function cpuPerJob(script: string): string {
  const kinds = samplesByKind(script);
  const ms = (n: number) => ((n * 1000) / SAMPLE_HZ / JOBS).toFixed(2);
  const total = kinds.reduce((sum, [, n]) => sum + n, 0);
  return `CPU ms per job, sampled (${ms(total)} in all):\n` + kinds.map(([kind, n]) => `  ${ms(n)}  ${kind}`).join("\n");
}

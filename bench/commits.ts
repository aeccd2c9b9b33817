// `npm run bench:commits`: how many SQLite transactions each contender's job commits, counted
// rather than timed. Every commit of an object's SQLite database under `wrangler dev` is
// one fsync of its write-ahead log, so strace, attached to the runtime workerd, counts
// them exactly: the figure does not move with the machine's load as CPU time does. Runs
// the project's job (`demo`, intervalMs 0, as in the job-throughput scenario), the floor's
// and the durable floor's (sending the frames the project's job sends), one at a time,
// JOBS of each.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFloorJob, createJob, type Created, type FloorInput } from "./lib/api.ts";
import { startBenchServer } from "./lib/server.ts";
import { markdownTable } from "./lib/table.ts";
import { measureFrames, watchUntilEnd } from "./scenarios/job-throughput.ts";

const JOBS = 20;
const createDemo = async (base: string): Promise<Created> => {
  const job = await createJob(base, "demo", { intervalMs: 0 });
  return { id: job.id, ws: job.urls.ws };
};

if (spawnSync("strace", ["-V"]).status !== 0) {
  console.error("bench:commits needs strace (Debian: apt-get install strace)");
  process.exit(1);
}

const server = await startBenchServer({});
const trace = join(tmpdir(), `live-jobs-commits-${process.pid}.txt`);
try {
  // Before strace attaches: the frames of the project's job, which the floor's jobs copy.
  const frames: FloorInput = await measureFrames((await createDemo(server.url)).ws);
  const contenders: { name: string; create(base: string): Promise<Created> }[] = [
    { name: "live-jobs", create: createDemo },
    { name: "floor", create: (base) => createFloorJob(base, "burst", frames) },
    { name: "floor, durable", create: (base) => createFloorJob(base, "durable", frames) },
  ];
  const tracer = spawn("strace", ["-f", "-y", "-ttt", "-e", "trace=fsync,fdatasync", "-o", trace, "-p", String(server.processes().runtime)], { stdio: "ignore" });
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // attached
  const windows: { name: string; from: number; to: number }[] = [];
  for (const contender of contenders) {
    const from = Date.now() / 1000;
    for (let i = 0; i < JOBS; i++) await watchUntilEnd((await contender.create(server.url)).ws);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the last job's end is committed
    windows.push({ name: contender.name, from, to: Date.now() / 1000 });
  }
  const exited = tracer.exitCode === null ? new Promise((resolve) => tracer.once("exit", resolve)) : null;
  tracer.kill("SIGINT");
  await exited;
  console.log(report(readFileSync(trace, "utf8"), windows));
} finally {
  rmSync(trace, { force: true });
  await server.stop();
}

/**
 * Commits per job: fsyncs of a `-wal` file in each contender's window, by what the path
 * names: the job's own object, an owner's index, the namespace's `metadata` database
 * (where local workerd keeps alarms), and the local stand-in of the Rate Limiting binding.
 */
function report(text: string, windows: { name: string; from: number; to: number }[]): string {
  const syncs: { at: number; path: string }[] = [];
  for (const line of text.split("\n")) {
    const found = /^\d+\s+(\d+\.\d+)\s+f(?:data)?sync\(\d+<([^>]*\.sqlite-wal)>/.exec(line);
    if (found) syncs.push({ at: Number(found[1]), path: found[2]! });
  }
  const rows = windows.map(({ name, from, to }) => {
    const jobObjects = new Map<string, number>();
    const perJob = { index: 0, alarms: 0, rateLimit: 0 };
    for (const { at, path } of syncs) {
      if (at < from || at > to) continue;
      if (path.includes("/ratelimit/")) perJob.rateLimit++;
      else if (path.endsWith("/metadata.sqlite-wal")) perJob.alarms++;
      else if (/Index\/\w+\.sqlite-wal$/.test(path)) perJob.index++;
      else if (path.includes("/do/")) jobObjects.set(path, (jobObjects.get(path) ?? 0) + 1);
    }
    // An earlier contender's objects, evicted meanwhile, checkpoint their logs: theirs, not this one's.
    for (const path of jobObjects.keys()) if (syncs.find((sync) => sync.path === path)!.at < from) jobObjects.delete(path);
    const counts = [...jobObjects.values()];
    const mean = (n: number) => Number((n / JOBS).toFixed(1));
    return [name, counts.length, spread(counts), mean(perJob.index), mean(perJob.alarms), mean(perJob.rateLimit)];
  });
  return `### SQLite commits per job (${JOBS} jobs each, one at a time)\n\n` +
    markdownTable(["server", "jobs", "in the job's object", "in the owner's index", "in the alarm table", "in the rate limiter"], rows) +
    "\n\nThe job's object counts the commit of its creation (the runtime's set-up), common to every contender; the last three columns are per job. Locally, alarms and the Rate Limiting binding are SQLite databases of their own.";
}

function spread(counts: number[]): string {
  if (!counts.length) return "—";
  const min = Math.min(...counts);
  const max = Math.max(...counts);
  return min === max ? String(min) : `${min}–${max}`;
}

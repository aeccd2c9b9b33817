// Scenario 3: concurrent clients each create a short job, watch it over its WebSocket
// until its terminal event, and start the next one; the same driver for the project's
// job and for the floor's job of the same frames (bench/.worker/floor.ts).
//
// A finished job's object is evicted about 10 s after its last event, which closes its
// connections and costs CPU too; so the runtime CPU per job is measured from the first
// create until those connections are closed (`settle`), minus the runtime's idle rate,
// and nothing else runs meanwhile. Jobs/s counts the active seconds only.
import { createFloorJob, createJob, type Created, type FloorInput } from "../lib/api.ts";
import { cpuMeter, cpuSeconds, type CpuShare, type DevProcesses } from "../lib/proc.ts";
import type { RawSocket } from "../lib/raw-websocket.ts";
import { summarize, type Summary } from "../lib/stats.ts";
import { openJobSocket, TERMINAL_FRAME } from "../lib/subscribers.ts";
import type { Contender } from "../lib/ticker-run.ts";

/** What one client creates and watches. */
export interface JobKind {
  contender: Contender;
  /** What the job does, for the tables. */
  label: string;
  create(base: string): Promise<Created>;
}

export function projectJob(label: string, type: string, input: unknown): JobKind {
  return {
    contender: "project",
    label,
    create: async (base) => {
      const job = await createJob(base, type, input);
      return { id: job.id, ws: job.urls.ws };
    },
  };
}

/** The floor's job; `durable`: with an owner's list and a run from an alarm. */
export function floorJob(label: string, input: FloorInput, durable = false): JobKind {
  return { contender: durable ? "floor-durable" : "floor", label, create: (base) => createFloorJob(base, durable ? "durable" : "burst", input) };
}

/** The frames one subscriber got: the snapshot, and the events (presence frames aside). */
export interface FrameShape {
  snapshotChars: number;
  events: number;
  /** Mean characters per event frame. */
  eventChars: number;
}

/** Subscribes to a finished (or running) job from seq 0 and measures the frames it sends. */
export async function measureFrames(wsUrl: string): Promise<FrameShape> {
  const frames: string[] = [];
  let settle!: () => void;
  const ended = new Promise<void>((resolve) => (settle = resolve));
  const timer = setTimeout(settle, 10_000);
  const socket = await openJobSocket(wsUrl, {
    frame: (text) => {
      if (!text.startsWith('{"type":"presence"')) frames.push(text);
      if (TERMINAL_FRAME.test(text)) settle();
    },
    closed: () => settle(),
  });
  await ended;
  clearTimeout(timer);
  socket.close();
  const [snapshot, ...events] = frames;
  if (!snapshot?.startsWith('{"type":"snapshot"') || !events.length || !TERMINAL_FRAME.test(events.at(-1)!)) {
    throw new Error(`${wsUrl} did not send a snapshot, events and a terminal event`);
  }
  return {
    snapshotChars: snapshot.length,
    events: events.length,
    eventChars: Math.round(events.reduce((sum, frame) => sum + frame.length, 0) / events.length),
  };
}

export interface JobThroughputRow {
  contender: Contender;
  job: string;
  clients: number;
  /** Which of `--rounds` this run was (1 when there is one). */
  round: number;
  completed: number;
  failed: number;
  /** Jobs completed per second while the clients ran. */
  jobsPerSecond: number;
  createMs: Summary;
  /** From sending the create request to receiving the terminal event. */
  endToEndMs: Summary;
  /** While the clients ran. */
  cpu: CpuShare;
  /** Runtime CPU ms per completed job, from the first create until the jobs' connections closed, idle rate taken off. */
  runtimeCpuMsPerJob: number;
  proxyCpuMsPerJob: number;
  /** How long after the last job the connections took to close. */
  settleMs: number;
  /** A few job ids. */
  sampleIds: string[];
  errors: string[];
}

export interface JobThroughputOptions {
  base: string;
  processes: DevProcesses;
  job: JobKind;
  clients: number;
  round: number;
  /** Clients start new jobs for this long, then wait for the last ones to finish. */
  seconds: number;
  /** Waits until the finished jobs' connections are closed; returns the ms waited. */
  settle: () => Promise<number>;
  /** The runtime's and the proxy's CPU seconds per second when idle. */
  idle: { runtime: number; proxy: number };
}

export async function measureJobThroughput(options: JobThroughputOptions): Promise<JobThroughputRow> {
  const { base, processes, job } = options;
  const createMs: number[] = [];
  const endToEndMs: number[] = [];
  const sampleIds: string[] = [];
  const errors: string[] = [];
  let failed = 0;
  const before = { runtime: cpuSeconds(processes.runtime), proxy: cpuSeconds(processes.proxy), at: performance.now() };
  const stopCpu = cpuMeter(processes);
  const start = performance.now();
  const until = start + options.seconds * 1000;
  const client = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      try {
        const created = await job.create(base);
        createMs.push(performance.now() - t0);
        if (sampleIds.length < 5) sampleIds.push(created.id);
        await watchUntilEnd(created.ws);
        endToEndMs.push(performance.now() - t0);
      } catch (error) {
        failed++;
        if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  const elapsedMs = performance.now() - start;
  const cpu = stopCpu();
  const settleMs = await options.settle();
  const windowS = (performance.now() - before.at) / 1000;
  const perJob = (used: number, idle: number) => (endToEndMs.length ? (Math.max(0, used - idle * windowS) * 1000) / endToEndMs.length : NaN);
  return {
    contender: job.contender,
    job: job.label,
    clients: options.clients,
    round: options.round,
    completed: endToEndMs.length,
    failed,
    jobsPerSecond: (endToEndMs.length / elapsedMs) * 1000,
    createMs: summarize(createMs),
    endToEndMs: summarize(endToEndMs),
    cpu,
    runtimeCpuMsPerJob: perJob(cpuSeconds(processes.runtime) - before.runtime, options.idle.runtime),
    proxyCpuMsPerJob: perJob(cpuSeconds(processes.proxy) - before.proxy, options.idle.proxy),
    settleMs,
    sampleIds,
    errors,
  };
}

/**
 * Runs `clients` clients creating and watching `job`'s jobs until `jobs` have been started
 * or `seconds` have passed, measuring nothing; returns how many ended. Before a
 * contender's first measured run: V8 tiers its code up over its first several hundred jobs.
 */
export async function warmJobs(base: string, job: JobKind, options: { clients: number; jobs: number; seconds: number }): Promise<number> {
  const until = performance.now() + options.seconds * 1000;
  let started = 0;
  let ended = 0;
  const client = async () => {
    while (started < options.jobs && performance.now() < until) {
      started++;
      await watchUntilEnd((await job.create(base)).ws);
      ended++;
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  return ended;
}

/** Resolves at the terminal event, without waiting for workerd to close the TCP connection (~10 s later). */
export async function watchUntilEnd(url: string): Promise<void> {
  let settle!: (error?: Error) => void;
  const ended = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
  ended.catch(() => {}); // observed below, or dropped when the socket did not open
  const timer = setTimeout(() => settle(new Error(`No terminal event within 30 s on ${url}`)), 30_000);
  let socket: RawSocket | null = null;
  try {
    socket = await openJobSocket(url, {
      frame: (text) => TERMINAL_FRAME.test(text) && settle(),
      closed: (code) => settle(new Error(`${url} closed (${code}) before the terminal event`)),
    });
    await ended;
  } finally {
    clearTimeout(timer);
    socket?.close();
  }
}

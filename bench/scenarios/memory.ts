// Scenario 5: resident memory of the workerd processes per viewer.
//   idle     N subscribers per transport wait on a sleeping job;
//   stalled  M viewers per transport of a finished job whose history is far larger than
//            what the server may hold per viewer: WebSocket clients that take what arrives
//            and never ack, SSE and text clients that stop reading after the first chunk;
//            next to M idle viewers of a small job, so the difference is what a stalled
//            viewer holds.
// The history is 4,000 log lines of 8,000 characters (32 MB): on loopback the kernel's
// socket buffers between client, proxy and runtime take about 11 MB of a stalled SSE or
// text stream before the Worker feels any backpressure, so a 12 MB history would simply
// be sent. Those kernel queues are not in any process's RSS; they are reported apart.
// Every set stays open while the next ones connect, so each reading is fresh growth, not
// memory the allocator kept from connections closed earlier. Each reading follows a full
// garbage collection of the Worker's isolate (through the runtime's inspector), so the
// JavaScript heap column is live memory; RSS also holds what V8 and the allocator keep.
import { cancelJob, createJob, getSnapshot, waitForEnd } from "../lib/api.ts";
import { RuntimeInspector } from "../lib/inspector.ts";
import { cpuSeconds, rssBytes, socketQueuedBytes, type DevProcesses } from "../lib/proc.ts";
import { streamUrl, subscribeMany, type SubscriberSet, type Transport } from "../lib/subscribers.ts";

/** Lets the runtime finish the handshakes' work before a reading. */
const SETTLE_MS = 1_000;
/** After a full GC, V8 and the allocator hand pages back to the system over a moment. */
const AFTER_GC_MS = 500;
/** ...and, for stalled viewers, send what it will send: until its CPU is quiet, at most this long. */
const MAX_QUIET_WAIT_MS = 20_000;
/** The stalled viewers' job: its history, 32 MB of log lines. */
export const BIG_JOB = { type: "bench-steps", input: { steps: 40, lines: 100, chars: 8_000 } };

export type ViewerKind = "idle" | "idle, small job" | "stalled, 32 MB history";

export interface MemoryRow {
  transport: Transport;
  kind: ViewerKind;
  subscribers: number;
  connectMs: number;
  /** Runtime CPU time per viewer from the first connect until the reading (a stalled stream's sending included). */
  runtimeCpuMsPerViewer: number;
  runtimeBytes: number;
  proxyBytes: number;
  /** Growth of runtime plus proxy per subscriber. */
  bytesPerSubscriber: number;
  /** Growth of the Worker isolate's live JavaScript heap (after a full GC) per viewer, from the inspector; null without it. */
  heapBytesPerViewer: number | null;
  /** Growth of the kernel's socket queues on the server's ports, per viewer (not in any RSS). */
  socketQueuedBytesPerViewer: number;
  /** Characters each viewer received, on average, by the reading. */
  receivedCharsPerViewer: number;
  /** Requests into the job's object per viewer: its subscribe, and for SSE and text the Worker's acks. */
  requestsPerViewer: number;
}

export interface MemoryResult {
  baseline: { runtimeBytes: number; proxyBytes: number; queuedBytes: number; heapBytes: number | null };
  /** The stalled viewers' job: events and characters of its history. */
  bigJob: { events: number; historyChars: number } | null;
  rows: MemoryRow[];
  notes: string[];
}

export interface MemoryOptions {
  base: string;
  processes: DevProcesses;
  /** The server's public port and the runtime's own port, for the socket queues. */
  ports: number[];
  transports: Transport[];
  /** Idle subscribers per transport. */
  idle: number;
  /** Stalled viewers per transport (and as many idle ones on a small job); 0: none. */
  stalled: number;
}

/** After a full garbage collection when the inspector is there: live memory, not garbage waiting to be collected. */
async function reading(processes: DevProcesses, ports: number[], inspector: RuntimeInspector | null, notes: string[]) {
  const heap = async (inspector: RuntimeInspector) => {
    await inspector.collectGarbage();
    await sleep(AFTER_GC_MS);
    return inspector.heapUsed();
  };
  const heapBytes = inspector ? await heap(inspector).catch((error: Error) => (notes.push(`heap: ${error.message}`), null)) : null;
  return { runtimeBytes: rssBytes(processes.runtime), proxyBytes: rssBytes(processes.proxy), queuedBytes: socketQueuedBytes(ports), heapBytes };
}

/** Waits until the runtime used less than 2 % of a core over half a second, or `maxMs`. */
async function untilQuiet(processes: DevProcesses, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = cpuSeconds(processes.runtime);
  while (Date.now() < deadline) {
    await sleep(500);
    const now = cpuSeconds(processes.runtime);
    if (now - last <= 0.01) return;
    last = now;
  }
}

export async function measureMemory(options: MemoryOptions): Promise<MemoryResult> {
  const { base, processes, transports } = options;
  const sets: SubscriberSet[] = [];
  const jobs: string[] = [];
  const inspector = await RuntimeInspector.open(processes);
  const notes: string[] = inspector ? [] : [`no JS heap figures: ${RuntimeInspector.lastError}`];
  const sleepingJob = async () => {
    // A job that sleeps for the whole measurement: its subscribers only wait.
    const job = await createJob(base, "ticker", { count: 1, intervalMs: 0, startAt: Date.now() + 600_000 });
    jobs.push(job.id);
    return job.id;
  };
  try {
    let big: { id: string; events: number } | null = null;
    if (options.stalled > 0) {
      const job = await createJob(base, BIG_JOB.type, BIG_JOB.input);
      big = { id: job.id, events: (await waitForEnd(base, job.id, 60_000)).snapshot.lastSeq };
    }
    await sleep(SETTLE_MS);
    const baseline = await reading(processes, options.ports, inspector, notes);
    const rows: MemoryRow[] = [];
    let last = baseline;
    const measure = async (transport: Transport, kind: ViewerKind, jobId: string, subscribers: number) => {
      // Read afresh after a busy set (a stalled one, or one right after it): its garbage,
      // collected at its reading, may be handed back only now.
      const before = rows.length && kind !== "idle" ? await reading(processes, options.ports, inspector, notes) : (rows.length ? last : baseline);
      const usageBefore = (await getSnapshot(base, jobId)).usage;
      const started = Date.now();
      const cpuBefore = cpuSeconds(processes.runtime);
      const stalled = kind.startsWith("stalled");
      const set = await subscribeMany({ url: streamUrl(base, jobId, transport), transport, subscribers, events: 1, stalled, concurrency: stalled ? 8 : 64 });
      sets.push(set);
      const connectMs = Date.now() - started;
      await sleep(SETTLE_MS);
      await untilQuiet(processes, MAX_QUIET_WAIT_MS);
      const runtimeCpuMsPerViewer = ((cpuSeconds(processes.runtime) - cpuBefore) * 1000) / subscribers;
      const after = await reading(processes, options.ports, inspector, notes);
      last = after;
      // Billed requests: the read after counts itself; acks are messages, 20 to a request.
      const requests = await getSnapshot(base, jobId).then(
        ({ usage }) => usage.requests - usageBefore.requests - 1 + (usage.messages - usageBefore.messages) / 20,
        (error: Error) => (notes.push(`${transport}, ${kind}: ${error.message.slice(0, 200)}`), NaN),
      );
      const runtimeBytes = after.runtimeBytes - before.runtimeBytes;
      const proxyBytes = after.proxyBytes - before.proxyBytes;
      rows.push({
        transport, kind, subscribers, connectMs, runtimeCpuMsPerViewer, runtimeBytes, proxyBytes,
        bytesPerSubscriber: Math.round((runtimeBytes + proxyBytes) / subscribers),
        heapBytesPerViewer: after.heapBytes !== null && before.heapBytes !== null ? Math.round((after.heapBytes - before.heapBytes) / subscribers) : null,
        socketQueuedBytesPerViewer: Math.round((after.queuedBytes - before.queuedBytes) / subscribers),
        receivedCharsPerViewer: Math.round(set.receivers.reduce((sum, r) => sum + r.chars, 0) / subscribers),
        requestsPerViewer: requests / subscribers,
      });
    };
    for (const transport of transports) await measure(transport, "idle", await sleepingJob(), options.idle);
    if (big) {
      for (const transport of transports) {
        await measure(transport, "idle, small job", await sleepingJob(), options.stalled);
        await measure(transport, "stalled, 32 MB history", big.id, options.stalled);
      }
    }
    return { baseline, notes, bigJob: big && { events: big.events, historyChars: BIG_JOB.input.steps * BIG_JOB.input.lines * BIG_JOB.input.chars }, rows };
  } finally {
    inspector?.close();
    for (const id of jobs) await cancelJob(base, id);
    for (const set of sets) set.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

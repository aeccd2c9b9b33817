// The runtime workerd's V8 inspector (wrangler dev starts it with --inspector-addr on a
// loopback port): the Worker's JavaScript heap size, and CPU profiles. Best effort: when
// the inspector cannot be reached, callers go without.
import { listeningPorts, type DevProcesses } from "./proc.ts";

interface Target {
  id: string;
  webSocketDebuggerUrl: string;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export class RuntimeInspector {
  #nextId = 0;
  readonly #pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();

  readonly #socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(String(message.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const waiting = data.id === undefined ? undefined : this.#pending.get(data.id);
      if (!waiting) return; // events (console, exceptions): not ours to show
      this.#pending.delete(data.id!);
      if (data.error) waiting.reject(new Error(data.error.message));
      else waiting.resolve(data.result);
    });
    socket.addEventListener("close", () => {
      for (const waiting of this.#pending.values()) waiting.reject(new Error("The inspector closed"));
      this.#pending.clear();
    });
  }

  /** Why the last `open` found no inspector. */
  static lastError = "";

  /**
   * Connects to the Worker's isolate (the target named core:user:<worker name>); null if
   * there is none. wrangler keeps its own session (for console output), and a new session
   * is sometimes closed at once while they settle; so a few attempts.
   */
  static async open(processes: DevProcesses, attempts = 3): Promise<RuntimeInspector | null> {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const inspector = await RuntimeInspector.#open(processes);
      if (inspector) return inspector;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return null;
  }

  static async #open(processes: DevProcesses): Promise<RuntimeInspector | null> {
    const errors: string[] = [];
    RuntimeInspector.lastError = "no inspector port";
    for (const port of listeningPorts(processes.runtime)) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(1_000) });
        const targets = (await response.json()) as Target[];
        if (!Array.isArray(targets)) continue;
        const target = targets.find((t) => t.id.startsWith("core:user:"));
        if (!target) {
          errors.push(`port ${port}: no core:user target in ${targets.map((t) => t.id).join(", ")}`);
          continue;
        }
        const socket = new WebSocket(target.webSocketDebuggerUrl);
        await new Promise<void>((resolve, reject) => {
          socket.addEventListener("open", () => resolve(), { once: true });
          socket.addEventListener("error", () => reject(new Error("inspector connection failed")), { once: true });
        });
        const inspector = new RuntimeInspector(socket);
        await inspector.call("Runtime.enable");
        return inspector;
      } catch (error) {
        // Not the inspector (the entry port, the control port), or it did not answer.
        errors.push(`port ${port}: ${error instanceof Error ? error.message : String(error)}`);
        RuntimeInspector.lastError = errors.join("; ");
      }
    }
    return null;
  }

  call<T = unknown>(method: string, params: object = {}, timeoutMs = 10_000): Promise<T> {
    const id = ++this.#nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /**
   * A full garbage collection. workerd does not answer HeapProfiler.collectGarbage, but a
   * heap snapshot collects garbage first (its chunks arrive as events, which are dropped).
   */
  async collectGarbage(): Promise<void> {
    await this.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false, captureNumericValue: false }, 60_000);
  }

  /**
   * Bytes of the Worker isolate's JavaScript heap in use (after collectGarbage: live
   * objects) plus the ArrayBuffer backing stores (the byte chunks a stream queues).
   */
  async heapUsed(): Promise<number> {
    const usage = await this.call<{ usedSize: number; backingStorageSize?: number }>("Runtime.getHeapUsage");
    return usage.usedSize + (usage.backingStorageSize ?? 0);
  }

  async startProfile(intervalUs = 200): Promise<void> {
    await this.call("Profiler.enable");
    await this.call("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.call("Profiler.start");
  }

  async stopProfile(): Promise<CpuProfile> {
    const { profile } = await this.call<{ profile: CpuProfile }>("Profiler.stop", {}, 30_000);
    await this.call("Profiler.disable");
    return profile;
  }

  close(): void {
    this.#socket.close();
  }
}

export interface ProfileLine {
  /** Function name and where it is: file:line of the bundled Worker (or a runtime builtin). */
  name: string;
  selfPercent: number;
  totalPercent: number;
}

/**
 * Self and total time per function, the heaviest first, over the samples taken while the
 * isolate ran: V8 does not sample while workerd leaves the isolate (between events), and
 * charges that whole gap to the next sample, so a delta longer than `maxDeltaUs` is
 * dropped. Idle, program and GC samples are reported under their own names.
 */
export function summarizeProfile(profile: CpuProfile, top = 25, maxDeltaUs = 2_000): ProfileLine[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const nameOf = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url ? url.slice(url.lastIndexOf("/") + 1) : "";
    return `${functionName || "(anonymous)"}${file ? ` ${file}:${lineNumber + 1}` : ""}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  for (const [i, sample] of profile.samples.entries()) {
    const dt = profile.timeDeltas[i] ?? 0;
    if (dt > maxDeltaUs) continue;
    all += dt;
    let node = byId.get(sample);
    if (!node) continue;
    self.set(nameOf(node), (self.get(nameOf(node)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      node = byId.get(id)!;
      const name = nameOf(node);
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + dt);
    }
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfPercent: (us / all) * 100, totalPercent: ((total.get(name) ?? us) / all) * 100 }));
}

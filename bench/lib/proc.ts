// Linux /proc readings of the processes behind one `wrangler dev`: resident memory and
// CPU time. `wrangler dev` runs a Node process (the CLI, which also prints a log line per
// request) and two workerd processes: a proxy that owns the public port and forwards
// every request and WebSocket, and the runtime that runs our Worker and job objects.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface DevProcesses {
  cli: number;
  proxy: number;
  runtime: number;
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux architecture Node runs on

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return ""; // The process ended while we looked.
  }
}

/** Fields of /proc/<pid>/stat after the command name: index 0 is field 3 (state). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

const parentOf = (pid: number) => Number(statFields(pid)[1]);

/** The processes serving `port`: the workerd that listens on it, its sibling and their parent. */
export function findDevProcesses(port: number): DevProcesses {
  const pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number);
  const workerd = pids.filter((pid) => cmdline(pid).includes("/workerd serve "));
  const proxy = workerd.find((pid) => cmdline(pid).includes(`--socket-addr=entry=127.0.0.1:${port} `));
  if (proxy === undefined) throw new Error(`No workerd process listens on 127.0.0.1:${port}`);
  const cli = parentOf(proxy);
  const runtime = workerd.find((pid) => pid !== proxy && parentOf(pid) === cli);
  if (runtime === undefined) throw new Error(`No workerd runtime next to the proxy ${proxy}`);
  return { cli, proxy, runtime };
}

export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`No VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** User plus system CPU time a process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds every process on the machine used so far (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const busy = ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
  return busy / CLOCK_TICKS_PER_SECOND;
}

function clientSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Percent of one core over an interval; `other` is everything else on the machine. */
export interface CpuShare {
  runtime: number;
  proxy: number;
  cli: number;
  client: number;
  other: number;
  /** CPU seconds the runtime and the proxy used in the interval, and its length in seconds. */
  runtimeSeconds: number;
  proxySeconds: number;
  elapsedSeconds: number;
}

/** Starts measuring CPU use; the returned function ends the interval and reports it. */
export function cpuMeter(processes: DevProcesses): () => CpuShare {
  const read = () => ({
    at: performance.now(),
    runtime: cpuSeconds(processes.runtime),
    proxy: cpuSeconds(processes.proxy),
    cli: cpuSeconds(processes.cli),
    client: clientSeconds(),
    machine: machineBusySeconds(),
  });
  const start = read();
  return () => {
    const end = read();
    const seconds = (end.at - start.at) / 1000;
    const percent = (key: Exclude<keyof typeof start, "at">) => ((end[key] - start[key]) / seconds) * 100;
    const ours = percent("runtime") + percent("proxy") + percent("cli") + percent("client");
    const share = { runtime: percent("runtime"), proxy: percent("proxy"), cli: percent("cli"), client: percent("client"), other: percent("machine") - ours };
    const rounded = Object.fromEntries(Object.entries(share).map(([key, value]) => [key, Math.max(0, Math.round(value))])) as Omit<CpuShare, `${string}Seconds`>;
    return { ...rounded, runtimeSeconds: end.runtime - start.runtime, proxySeconds: end.proxy - start.proxy, elapsedSeconds: seconds };
  };
}

/** TCP ports a process listens on, from its socket inodes and /proc/net/tcp. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // The descriptor closed while we looked.
    }
  }
  const ports: number[] = [];
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    // Column 3 is the state (0A = LISTEN), column 1 the local hex address:port, column 9 the inode.
    if (cols[3] === "0A" && inodes.has(cols[9]!)) ports.push(parseInt(cols[1]!.split(":")[1]!, 16));
  }
  return ports;
}

/** The runtime's own HTTP port behind the proxy: the one of its ports that answers /health. */
export async function runtimeUrl(processes: DevProcesses): Promise<string | null> {
  for (const port of listeningPorts(processes.runtime)) {
    const url = `http://127.0.0.1:${port}`;
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok && ((await response.json()) as { ok?: boolean }).ok === true) return url;
    } catch {
      // Not an HTTP port (the inspector, the control port).
    }
  }
  return null;
}

/**
 * TCP connections still open on the server side of `ports` (anything but LISTEN and
 * TIME_WAIT). workerd finishes closing a WebSocket about 10 s after the close handshake
 * and runs the object's close handler then, so a run's teardown can overlap the next run.
 */
export function openServerConnections(ports: number[]): number {
  const wanted = new Set(ports);
  let open = 0;
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4 || cols[3] === "0A" || cols[3] === "06") continue;
    if (wanted.has(parseInt(cols[1]!.split(":")[1]!, 16))) open++;
  }
  return open;
}

/**
 * Bytes waiting in the kernel's socket queues (sent and not yet acknowledged by the peer,
 * or received and not yet read) of the TCP connections on `ports`, at either end: what a
 * stalled reader leaves in the kernel rather than in any process's memory.
 */
export function socketQueuedBytes(ports: number[]): number {
  const wanted = new Set(ports);
  let bytes = 0;
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5 || cols[3] === "0A") continue;
    const local = parseInt(cols[1]!.split(":")[1]!, 16);
    const remote = parseInt(cols[2]!.split(":")[1]!, 16);
    if (!wanted.has(local) && !wanted.has(remote)) continue;
    const [tx = "0", rx = "0"] = cols[4]!.split(":");
    bytes += parseInt(tx, 16) + parseInt(rx, 16);
  }
  return bytes;
}

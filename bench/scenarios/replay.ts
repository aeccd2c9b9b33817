// Scenario 6: one reader replays a finished job's long history, as a client of the
// platform does: Node's own WebSocket (what the client SDK uses in Node) answering every
// mark, a frame a message and then in batches (`?batch`), and `fetch` reading the SSE and
// text views (an ended job's are bridged by the Worker). A browser or Node spends about
// 0.1 ms on each WebSocket message whatever its size, so frames a message are the
// contender batches are measured against, in the same run.
import { createJob, waitForEnd } from "../lib/api.ts";
import { cpuSeconds, type DevProcesses } from "../lib/proc.ts";

export type ReplayReader = "WebSocket, a frame a message" | "WebSocket, ?batch" | "SSE (bridged)" | "text (bridged)";

export interface ReplayRow {
  reader: ReplayReader;
  events: number;
  messages: number;
  ms: number;
  /** CPU seconds of the runtime and the proxy, and of this (the reader's) process. */
  serverCpuS: number;
  clientCpuS: number;
}

export interface ReplayResult {
  events: number;
  rows: ReplayRow[];
}

/** A ticker job of `events` log events (a thousand a tick), finished. */
async function longJob(base: string, events: number): Promise<{ id: string; lastSeq: number }> {
  const job = await createJob(base, "ticker", { count: events, intervalMs: 1, batch: 1_000 });
  const { snapshot } = await waitForEnd(base, job.id, 60_000);
  return { id: job.id, lastSeq: snapshot.lastSeq };
}

/** Reads the whole history over Node's WebSocket, answering marks: events and messages received. */
function readSocket(url: string): Promise<{ events: number; messages: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let events = 0;
    let messages = 0;
    socket.onmessage = (message) => {
      messages++;
      for (const line of String(message.data).split("\n")) {
        const frame = JSON.parse(line) as { type: string; token?: string };
        if (frame.type === "event") events++;
        else if (frame.type === "mark") socket.send(JSON.stringify({ type: "ack", token: frame.token }));
      }
    };
    socket.onclose = () => resolve({ events, messages });
    socket.onerror = () => reject(new Error(`WebSocket ${url} failed`));
  });
}

/** Reads an SSE or text view to its end: events (SSE `id:` lines, or text lines after the snapshot's) and chunks received. */
async function readStream(url: string, sse: boolean): Promise<{ events: number; messages: number }> {
  const response = await fetch(url, { headers: { "Accept-Encoding": "identity" } });
  if (!response.ok || !response.body) throw new Error(`GET ${url} answered ${response.status}`);
  let lines = 0;
  let ids = 0;
  let chunks = 0;
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of response.body) {
    chunks++;
    const text = rest + decoder.decode(chunk, { stream: true });
    const cut = text.lastIndexOf("\n") + 1;
    for (const line of text.slice(0, cut).split("\n")) {
      if (line === "") continue;
      lines++;
      if (line.startsWith("id: ")) ids++;
    }
    rest = text.slice(cut);
  }
  return { events: sse ? ids : lines - 1, messages: chunks };
}

export async function measureReplay(options: { base: string; processes: DevProcesses; events: number }): Promise<ReplayResult> {
  const { base, processes } = options;
  const job = await longJob(base, options.events);
  const ws = `${base.replace(/^http/, "ws")}/jobs/${job.id}/ws`;
  const readers: [ReplayReader, () => Promise<{ events: number; messages: number }>][] = [
    ["WebSocket, a frame a message", () => readSocket(ws)],
    ["WebSocket, ?batch", () => readSocket(`${ws}?batch`)],
    ["SSE (bridged)", () => readStream(`${base}/jobs/${job.id}/sse`, true)],
    ["text (bridged)", () => readStream(`${base}/jobs/${job.id}/stream`, false)],
  ];
  const rows: ReplayRow[] = [];
  for (const [reader, read] of readers) {
    const server = () => cpuSeconds(processes.runtime) + cpuSeconds(processes.proxy);
    const serverBefore = server();
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    const { events, messages } = await read();
    const ms = performance.now() - started;
    const client = process.cpuUsage(clientBefore);
    if (events !== job.lastSeq) throw new Error(`${reader}: ${events} events of ${job.lastSeq}`);
    rows.push({ reader, events, messages, ms, serverCpuS: server() - serverBefore, clientCpuS: (client.user + client.system) / 1e6 });
  }
  return { events: job.lastSeq, rows };
}

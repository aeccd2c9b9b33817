// Scenario 6: one reader replays a finished job's long history, as a client of the
// platform does: Node's own WebSocket (what the client SDK uses in Node) answering every
// mark, a frame a message and then in batches (`?batch`), and `fetch` reading the SSE and
// text views (an ended job's are bridged by the Worker); then the same job followed over
// the many-jobs connection (/live/ws, subscribed to, with and without `?batch`, and
// /live/sse?sources=). A browser or Node spends about 0.1 ms on each WebSocket message
// whatever its size, so the job's own socket a frame a message is the contender every
// other reader is measured against, in the same run.
import { createJob, waitForEnd } from "../lib/api.ts";
import { cpuSeconds, type DevProcesses } from "../lib/proc.ts";

export type ReplayReader =
  | "WebSocket, a frame a message"
  | "WebSocket, ?batch"
  | "SSE (bridged)"
  | "text (bridged)"
  | "/live/ws, a frame a message"
  | "/live/ws, ?batch"
  | "/live/sse";

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

/**
 * Reads the whole history over Node's WebSocket, answering marks: events and messages
 * received. `source`: the socket is a many-jobs one (/live/ws), which follows the job once
 * subscribed to and stays open past its `end` frame, so the reader closes it then; its
 * acks name the job. A job's own socket is closed by its object after the last event.
 */
function readSocket(url: string, source?: string): Promise<{ events: number; messages: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let events = 0;
    let messages = 0;
    /** Why the socket closed before the job's end, if it did: an `error` frame's code. */
    let refused = source === undefined ? null : "the connection dropped";
    if (source !== undefined) socket.onopen = () => socket.send(JSON.stringify({ type: "subscribe", source }));
    socket.onmessage = (message) => {
      messages++;
      for (const line of String(message.data).split("\n")) {
        const frame = JSON.parse(line) as { type: string; token?: string; error?: { code: string } };
        if (frame.type === "event") events++;
        else if (frame.type === "mark") socket.send(JSON.stringify({ type: "ack", source, token: frame.token }));
        else if (frame.type === "end" || frame.type === "error") {
          refused = frame.type === "end" ? null : `an error frame (${frame.error?.code})`;
          socket.close();
        }
      }
    };
    socket.onclose = () => (refused ? reject(new Error(`${url} ended before the job's end: ${refused}`)) : resolve({ events, messages }));
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
  const live = `${base.replace(/^http/, "ws")}/live`;
  const readers: [ReplayReader, () => Promise<{ events: number; messages: number }>][] = [
    ["WebSocket, a frame a message", () => readSocket(ws)],
    ["WebSocket, ?batch", () => readSocket(`${ws}?batch`)],
    ["SSE (bridged)", () => readStream(`${base}/jobs/${job.id}/sse`, true)],
    ["text (bridged)", () => readStream(`${base}/jobs/${job.id}/stream`, false)],
    ["/live/ws, a frame a message", () => readSocket(`${live}/ws`, job.id)],
    ["/live/ws, ?batch", () => readSocket(`${live}/ws?batch`, job.id)],
    ["/live/sse", () => readStream(`${base}/live/sse?sources=${job.id}`, true)],
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

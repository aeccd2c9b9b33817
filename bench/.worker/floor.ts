// The floor: the least a per-job Durable Object can do, measured next to the project by
// the same drivers. A bare Worker route and one SQLite-backed object per job that
//   POST /floor/jobs         stores the job: one row (type, input, state);
//   GET  /floor/jobs/:id     answers that row;
//   GET  /floor/jobs/:id/ws  accepts a hibernatable WebSocket (ctx.acceptWebSocket) and
//                            sends the job's frames, closing 1000 after the last;
//   GET  /floor/jobs/:id/sse the ticker's frames as SSE, from a stream the object holds
//                            (so it cannot hibernate while a viewer watches);
//   GET  /floor/jobs/:id/sse-bridged  the same SSE from the Worker, which holds a
//                            hibernatable WebSocket to the object per viewer and writes
//                            the frames the object sends it already as SSE (live-jobs'
//                            design, DESIGN.md "Watching");
// and at the end updates the row (state, finished_at). No auth, no ids with tags, no
// event log, no steps, no alarms but the ticker's start (the durable job below adds a log,
// an alarm and an owner's list), no flow control (acks are read and ignored), no
// presence, no limits.
//
// Three kinds of job, sized by the bench to match the project's job it is compared with:
//   burst   the snapshot frame and `events` event frames (the last one the terminal
//           `result`) go to each subscriber as it connects; the first subscriber to get
//           them all finishes the job. For job throughput: the same frames as a short job.
//   durable the same frames, with what any job of the project needs besides: its owner's
//           list (a second object, FloorIndex, told when the job starts and when it
//           ends) and a run from an alarm that stores the events (one row) before it
//           sends them; a subscriber gets the stored events, or waits for the run's.
//   ticker  from `startAt` (an alarm), `lead` frames, then `count` log events, `batch`
//           every `intervalMs`, each stamped with its publish time, then `tail` frames
//           (the last the `result`), broadcast to every connected subscriber, and close
//           1000. For fan-out: the frames the project's ticker sends from its start (its
//           state and step events around the ticks, counted by the bench) at the same rate.
import { DurableObject } from "cloudflare:workers";
import type { BenchEnv } from "./env";

export interface FloorInput {
  /** Characters the snapshot frame is padded to. */
  snapshotChars?: number;
  /** Burst: event frames per subscriber, the last one terminal, each padded to `eventChars`. */
  events?: number;
  eventChars?: number;
  /**
   * Ticker: log events broadcast from `startAt`, `batch` every `intervalMs`; `lead` frames
   * before them and `tail` after (default 1: the result), each padded to `frameChars`.
   */
  ticker?: { count: number; intervalMs: number; batch: number; startAt: number; lead?: number; tail?: number; frameChars?: number };
}

interface FloorRow extends Record<string, SqlStorageValue> {
  id: string;
  type: string;
  input: string;
  state: string;
  created_at: number;
  finished_at: number | null;
}

const MAX_EVENTS = 100_000;
const MAX_CHARS = 64 * 1024;

/** What a WebSocket subscriber asked for: SSE text (the Worker's bridge) or JSON frames. */
interface FloorAttachment {
  sse: boolean;
}

export class FloorObject extends DurableObject<BenchEnv> {
  /** The SSE viewers the object serves itself. */
  readonly #streams = new Set<ReadableStreamDefaultController<Uint8Array>>();

  /** One row: the job. */
  async create(id: string, type: string, input: FloorInput): Promise<FloorRow> {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS job (id TEXT NOT NULL, type TEXT NOT NULL, input TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL, finished_at INTEGER)");
    sql.exec("INSERT INTO job VALUES (?, ?, ?, 'queued', ?, NULL)", id, type, JSON.stringify(input), Date.now());
    if (input.ticker) await this.ctx.storage.setAlarm(input.ticker.startAt);
    if (type === "durable") {
      sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, events TEXT NOT NULL)");
      await this.#index().add(id);
      await this.ctx.storage.setAlarm(Date.now() + 1);
    }
    return this.status()!;
  }

  #index(): DurableObjectStub<FloorIndex> {
    return this.env.FLOOR_INDEX.get(this.env.FLOOR_INDEX.idFromName("bench"));
  }

  status(): FloorRow | null {
    try {
      return this.ctx.storage.sql.exec<FloorRow>("SELECT * FROM job").toArray()[0] ?? null;
    } catch {
      return null; // no table: no job here
    }
  }

  override async fetch(request: Request): Promise<Response> {
    const row = this.status();
    if (!row) return Response.json({ error: "no such job" }, { status: 404 });
    const input = JSON.parse(row.input) as FloorInput;
    const snapshot = pad(JSON.stringify({ type: "snapshot", snapshot: { ...row, pad: "" } }), input.snapshotChars);
    const format = new URL(request.url).searchParams.get("format");
    if (format !== null && (!input.ticker || row.state === "succeeded")) {
      return Response.json({ error: "SSE is for a ticker that has not ended" }, { status: 409 });
    }
    if (format === "sse-stream") {
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start: (c) => void (controller = c),
        cancel: () => void this.#streams.delete(controller),
      });
      this.#streams.add(controller);
      controller.enqueue(encoder.encode(sseFrame(snapshot)));
      return new Response(body, { headers: SSE_HEADERS });
    }
    const { 0: client, 1: socket } = new WebSocketPair();
    this.ctx.acceptWebSocket(socket);
    const sse = format === "sse";
    socket.serializeAttachment({ sse } satisfies FloorAttachment);
    socket.send(sse ? sseFrame(snapshot) : snapshot);
    if (row.type === "durable") {
      if (row.state === "succeeded") {
        for (const frame of this.#stored()) socket.send(frame);
        socket.close(1000, "job finished");
      }
    } else if (!input.ticker) {
      const events = input.events ?? 1;
      for (let seq = 1; seq <= events; seq++) socket.send(eventFrame(seq, seq === events, input.eventChars));
      socket.close(1000, "job finished");
      this.#finish(row);
    } else if (row.state === "succeeded") {
      socket.close(1000, "job finished");
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  /** The ticker's run: every tick's frames to every subscriber connected then. */
  override async alarm(): Promise<void> {
    const row = this.status();
    if (row?.type === "durable") return this.#runDurable(row);
    const ticker = row && (JSON.parse(row.input) as FloorInput).ticker;
    if (!row || !ticker || row.state !== "queued") return;
    const start = Date.now();
    let seq = 0;
    const padded = (count: number, last: boolean) => Array.from({ length: count }, (_, i) => eventFrame(++seq, last && i === count - 1, ticker.frameChars));
    if (ticker.lead) this.#broadcast(padded(ticker.lead, false));
    let sent = 0;
    for (let tick = 0; sent < ticker.count; tick++) {
      await sleep(start + tick * ticker.intervalMs - Date.now());
      const at = Date.now();
      const frames: string[] = [];
      for (let b = 0; b < ticker.batch && sent < ticker.count; b++) {
        sent++;
        frames.push(JSON.stringify({ type: "event", event: { seq: ++seq, at, type: "log", data: { level: "info", message: `tick ${sent}/${ticker.count} t=${at}` } } }));
      }
      this.#broadcast(frames);
    }
    this.#broadcast(padded(Math.max(1, ticker.tail ?? 1), true));
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.close(1000, "job finished");
      } catch {
        // already closed
      }
    }
    for (const stream of this.#streams) stream.close();
    this.#streams.clear();
    this.#finish(row);
  }

  /** The durable job's run: its events stored in one row, then sent; the owner's list told of its end. */
  async #runDurable(row: FloorRow): Promise<void> {
    if (row.state !== "queued") return;
    const input = JSON.parse(row.input) as FloorInput;
    const events = input.events ?? 1;
    const frames = Array.from({ length: events }, (_, i) => eventFrame(i + 1, i + 1 === events, input.eventChars));
    this.ctx.storage.sql.exec("INSERT INTO log VALUES (1, ?)", JSON.stringify(frames));
    this.#finish(row);
    for (const socket of this.ctx.getWebSockets()) {
      for (const frame of frames) trySend(socket, frame);
      try {
        socket.close(1000, "job finished");
      } catch {
        // already closed
      }
    }
    await this.#index().finish(row.id);
  }

  #stored(): string[] {
    const log = this.ctx.storage.sql.exec<{ events: string }>("SELECT events FROM log").toArray()[0];
    return log ? (JSON.parse(log.events) as string[]) : [];
  }

  /** Each frame made once per format: JSON frames, SSE text for the bridge, SSE bytes for the streams. */
  #broadcast(frames: string[]): void {
    const sse = frames.map(sseFrame);
    for (const socket of this.ctx.getWebSockets()) {
      const each = (socket.deserializeAttachment() as FloorAttachment | null)?.sse ? sse : frames;
      for (const frame of each) trySend(socket, frame);
    }
    if (this.#streams.size === 0) return;
    const bytes = encoder.encode(sse.join(""));
    for (const stream of this.#streams) stream.enqueue(bytes);
  }

  override async webSocketMessage(): Promise<void> {
    // Acks and pings: the floor has no flow control.
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  #finish(row: FloorRow): void {
    if (row.state === "succeeded") return;
    this.ctx.storage.sql.exec("UPDATE job SET state = 'succeeded', finished_at = ?", Date.now());
    row.state = "succeeded";
  }
}

/** The durable job's owner's list: a row per job, its state updated at the end. */
export class FloorIndex extends DurableObject<BenchEnv> {
  constructor(ctx: DurableObjectState, env: BenchEnv) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at INTEGER NOT NULL)");
  }

  add(id: string): void {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO jobs VALUES (?, 'queued', ?)", id, Date.now());
  }

  finish(id: string): void {
    this.ctx.storage.sql.exec("UPDATE jobs SET state = 'succeeded', updated_at = ? WHERE id = ?", Date.now(), id);
  }
}

/** An event frame as the project's WebSocket sends it; the last one is the terminal `result`. */
function eventFrame(seq: number, last: boolean, chars: number | undefined): string {
  const at = Date.now();
  const frame = last
    ? JSON.stringify({ type: "event", event: { seq, at, type: "result", data: { result: { events: seq, pad: "" } } } })
    : JSON.stringify({ type: "event", event: { seq, at, type: "log", data: { level: "info", message: "" } } });
  return pad(frame, chars);
}

/** Pads the JSON's last empty string value ("") so the frame has about `chars` characters. */
function pad(frame: string, chars: number | undefined): string {
  const missing = Math.min(chars ?? 0, MAX_CHARS) - frame.length;
  if (missing <= 0) return frame;
  const at = frame.lastIndexOf('""');
  return at < 0 ? frame : `${frame.slice(0, at + 1)}${"x".repeat(missing)}${frame.slice(at + 1)}`;
}

function trySend(socket: WebSocket, frame: string): void {
  try {
    socket.send(frame);
  } catch {
    // closed under us
  }
}

const encoder = new TextEncoder();
const SSE_HEADERS = { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store", "Content-Encoding": "identity" };

/** A JSON frame as an SSE message: an event's own seq as its id, like the project's. */
function sseFrame(frame: string): string {
  const event = /^\{"type":"event","event":\{"seq":(\d+),"at":\d+,"type":"(\w+)"/.exec(frame);
  return event ? `id: ${event[1]}\nevent: ${event[2]}\ndata: ${frame}\n\n` : `event: snapshot\ndata: ${frame}\n\n`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** The floor's routes, under /floor/jobs. */
export async function floorFetch(request: Request, env: BenchEnv): Promise<Response> {
  const url = new URL(request.url);
  const [, , collection, rawId, sub, ...rest] = url.pathname.split("/");
  if (collection !== "jobs" || rest.length) return notFound();
  if (rawId === undefined || rawId === "") {
    if (request.method !== "POST") return notFound();
    const body = (await request.json().catch(() => null)) as { type?: unknown; input?: FloorInput } | null;
    const input = body?.input ?? {};
    if (typeof body?.type !== "string" || !validInput(input)) return Response.json({ error: "bad request" }, { status: 400 });
    const id = env.FLOOR.newUniqueId();
    const row = await env.FLOOR.get(id).create(id.toString(), body.type, input);
    const self = `${url.origin}/floor/jobs/${id}`;
    return Response.json({ id: id.toString(), state: row.state, urls: { self, ws: `${self.replace(/^http/, "ws")}/ws` } }, { status: 201 });
  }
  let stub: DurableObjectStub<FloorObject>;
  try {
    stub = env.FLOOR.get(env.FLOOR.idFromString(rawId));
  } catch {
    return notFound();
  }
  if (sub === undefined && request.method === "GET") {
    const row = await stub.status();
    return row ? Response.json(row) : notFound();
  }
  if (sub === "sse" && request.method === "GET") return stub.fetch(new Request(`${url.origin}/sse?format=sse-stream`));
  if (sub === "sse-bridged" && request.method === "GET") return bridge(stub);
  if (sub === "ws" && request.method === "GET") {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return Response.json({ error: "upgrade required" }, { status: 426 });
    return stub.fetch(request);
  }
  return notFound();
}

/** The Worker's side of a bridged SSE viewer: one WebSocket to the object, its frames written through. */
async function bridge(stub: DurableObjectStub<FloorObject>): Promise<Response> {
  const answer = await stub.fetch(new Request("https://floor/ws?format=sse", { headers: { Upgrade: "websocket" } }));
  const socket = answer.webSocket;
  if (!socket) return answer;
  socket.accept();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    cancel: () => socket.close(1000, "viewer left"),
  });
  socket.addEventListener("message", (message) => controller.enqueue(encoder.encode(message.data as string)));
  socket.addEventListener("close", () => {
    try {
      controller.close();
    } catch {
      // the viewer left first
    }
  });
  return new Response(body, { headers: SSE_HEADERS });
}

function validInput(input: FloorInput): boolean {
  const small = (n: unknown, max: number) => n === undefined || (Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) <= max);
  const t = input.ticker;
  return small(input.events, MAX_EVENTS) && small(input.eventChars, MAX_CHARS) && small(input.snapshotChars, MAX_CHARS) &&
    (t === undefined || (small(t.count, MAX_EVENTS) && t.count > 0 && small(t.intervalMs, 60_000) && small(t.batch, 1_000) && t.batch > 0 && small(t.startAt, Number.MAX_SAFE_INTEGER) &&
      small(t.lead, 100) && small(t.tail, 100) && small(t.frameChars, MAX_CHARS)));
}

const notFound = () => Response.json({ error: "not found" }, { status: 404 });

// N live subscribers of one job over one transport. Every delivery is recorded with its
// tick index and publish→receive latency; each subscriber checks that its ticks arrive
// complete and in order. Parsing is one regex on the raw frame or line, the same for
// every transport, and the clients are lean (./raw-websocket.ts and node:http rather than
// WebSocket and fetch), so the client spends little CPU per delivery. WebSocket clients
// acknowledge as the app asks (README "Live updates"); SSE and text need not. A stalled
// subscriber takes what arrives and never acks (WebSocket), or stops reading after the
// first chunk (SSE, text).
import { get } from "node:http";
import { openRawWebSocket, type RawSocket } from "./raw-websocket.ts";

export type Transport = "ws" | "sse" | "text";

export const TRANSPORTS: Transport[] = ["ws", "sse", "text"];

const PATHS: Record<Transport, string> = { ws: "ws", sse: "sse", text: "stream" };

/** A job's live URL on the app for one transport (http: also for WebSocket). */
export function streamUrl(base: string, jobId: string, transport: Transport): string {
  return `${base}/jobs/${jobId}/${PATHS[transport]}`;
}

/** A subscriber that is not connected by then fails the run instead of stalling it. */
export const CONNECT_TIMEOUT_MS = 20_000;

/** Matches the ticker's message (src/jobs/ticker.ts, tickMessage) in a frame or a line. */
const TICK = /tick (\d+)\/\d+ t=(\d+)/;

/** Every delivery to every subscriber of one job, in the order they arrived. */
export class Tally {
  readonly index: number[] = [];
  readonly latency: number[] = [];
  readonly receivedAt: number[] = [];
  /** Deliveries per tick index, so a phase's progress is cheap to read while it runs. */
  readonly perTick: Uint32Array;
  /** Publish time per tick index, epoch ms; 0 until a subscriber received it. */
  readonly publishedAt: Float64Array;

  constructor(events: number) {
    this.perTick = new Uint32Array(events + 1);
    this.publishedAt = new Float64Array(events + 1);
  }

  record(index: number, publishedAt: number, now: number): void {
    this.index.push(index);
    this.latency.push(now - publishedAt);
    this.receivedAt.push(now);
    if (index >= this.perTick.length) return;
    this.perTick[index]!++;
    this.publishedAt[index] = publishedAt;
  }

  /** Deliveries of ticks first..last (inclusive) so far. */
  delivered(first: number, last: number): number {
    let sum = 0;
    for (let i = first; i <= last; i++) sum += this.perTick[i]!;
    return sum;
  }
}

/** One subscriber's view: the next tick it expects, and how its stream ended. */
export class Receiver {
  next = 1;
  received = 0;
  /** Characters of frames (WebSocket) or of the body (SSE, text) received. */
  chars = 0;
  inOrder = true;
  ended = false;
  error: string | null = null;
  readonly #tally: Tally;

  constructor(tally: Tally) {
    this.#tally = tally;
  }

  line(text: string): void {
    this.chars += text.length + 1;
    const match = TICK.exec(text);
    if (!match) return;
    const index = Number(match[1]);
    if (index !== this.next) this.inOrder = false;
    this.next = index + 1;
    this.received++;
    this.#tally.record(index, Number(match[2]), Date.now());
  }
}

export interface SubscriberSet {
  receivers: Receiver[];
  tally: Tally;
  /** When the last subscriber was connected, epoch ms. */
  connectedAt: number;
  /** Resolves once every subscriber's stream ended, or at `deadline` (epoch ms). */
  ended(deadline: number): Promise<void>;
  close(): void;
}

export interface SubscribeOptions {
  /** The job's live URL for `transport` (see streamUrl; the floor's /floor/jobs/:id/ws). */
  url: string;
  transport: Transport;
  subscribers: number;
  /** Ticks the job publishes in all. */
  events: number;
  /** Connections opened at once: more only lengthens the server's accept queue. */
  concurrency?: number;
  /** Never acknowledge (WebSocket), or stop reading after the first chunk (SSE, text). */
  stalled?: boolean;
}

export async function subscribeMany(options: SubscribeOptions): Promise<SubscriberSet> {
  const tally = new Tally(options.events);
  const receivers: Receiver[] = [];
  const connections: Connection[] = [];
  const { url, stalled = false } = options;
  const open = options.transport === "ws" ? connectWebSocket : connectStream;
  let failure: unknown = null;
  const worker = async () => {
    while (receivers.length < options.subscribers && failure === null) {
      const receiver = new Receiver(tally);
      receivers.push(receiver);
      try {
        connections.push(await open(url, receiver, stalled));
      } catch (error) {
        failure ??= error;
      }
    }
  };
  const closeAll = () => connections.forEach((connection) => connection.close());
  await Promise.all(Array.from({ length: options.concurrency ?? 64 }, worker));
  if (failure !== null) {
    closeAll();
    throw failure;
  }
  return {
    receivers,
    tally,
    connectedAt: Date.now(),
    async ended(deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
      await Promise.race([Promise.all(connections.map((c) => c.done)), timeout]);
      clearTimeout(timer);
    },
    close: closeAll,
  };
}

interface Connection {
  done: Promise<void>;
  close(): void;
}

/** The job's last frame: a terminal event (src/protocol.ts), serialized as {seq, at, type, data}. */
export const TERMINAL_FRAME = /^\{"type":"event","event":\{"seq":\d+,"at":\d+,"type":"(?:result|error)"/;

const MARK_TOKEN = /^\{"type":"mark","seq":\d+,"token":"([^"]+)"/;

export interface JobSocketHandlers {
  /** Every frame but `mark`. */
  frame(text: string): void;
  /** The server's close code, or 1006 when the connection dropped without one. */
  closed(code: number): void;
}

/**
 * A WebSocket subscriber as the app's protocol asks (README "Live updates"): it answers
 * each `mark` with an ack quoting its token, once it handled the frames before it. With
 * `ack: false` it never answers (a stalled viewer). The floor sends no marks.
 */
export function openJobSocket(url: string, handlers: JobSocketHandlers, { ack = true } = {}): Promise<RawSocket> {
  return openRawWebSocket(url.replace(/^http/, "ws"), CONNECT_TIMEOUT_MS, {
    message(text, socket) {
      if (text.startsWith('{"type":"mark"')) {
        const mark = MARK_TOKEN.exec(text);
        if (ack && mark) socket.send(`{"type":"ack","token":"${mark[1]}"}`);
        return;
      }
      handlers.frame(text);
    },
    closed: (code) => handlers.closed(code),
  });
}

/**
 * Resolves once the object accepted the socket (101): the subscriber is registered.
 * A subscriber is done at the terminal event or at the close frame, whichever comes
 * first; the client never waits for workerd to close the TCP connection (~10 s later).
 */
async function connectWebSocket(httpUrl: string, receiver: Receiver, stalled: boolean): Promise<Connection> {
  let markDone!: () => void;
  const done = new Promise<void>((settle) => (markDone = settle));
  const socket = await openJobSocket(httpUrl, {
    frame(text) {
      receiver.line(text);
      if (!TERMINAL_FRAME.test(text)) return;
      receiver.ended = true;
      markDone();
    },
    closed(code) {
      if (code !== 1000) receiver.error ??= `closed with ${code}`;
      markDone();
    },
  }, { ack: !stalled });
  return { done, close: () => socket.close() };
}

/** SSE and text: the Worker answers once it has subscribed to the object, so headers mean registered. */
function connectStream(url: string, receiver: Receiver, stalled: boolean): Promise<Connection> {
  return new Promise((resolve, reject) => {
    // No agent: one connection per subscriber, as separate viewers would have.
    const request = get(url, { agent: false }, (response) => {
      clearTimeout(timer);
      if (response.statusCode !== 200) {
        response.resume();
        return reject(new Error(`GET ${url} answered ${response.statusCode}`));
      }
      response.setEncoding("utf8");
      let partial = "";
      response.on("data", (chunk: string) => {
        // A stalled viewer reads the first chunk only: the Worker's and the kernel's buffers fill up behind it.
        if (stalled) response.pause();
        const lines = (partial + chunk).split("\n");
        partial = lines.pop()!;
        for (const line of lines) receiver.line(line);
      });
      const done = new Promise<void>((settle) => {
        response.on("end", () => {
          receiver.ended = true;
          settle();
        });
        response.on("error", (error) => {
          receiver.error ??= String(error);
          settle();
        });
        response.on("close", () => settle());
      });
      resolve({ done, close: () => request.destroy() });
    });
    request.on("error", reject);
    const timer = setTimeout(() => request.destroy(new Error(`GET ${url} did not answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
  });
}

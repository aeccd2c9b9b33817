// SSE and text viewers of a job that waits long or has ended are served by the Worker,
// which holds one WebSocket to the job's object per viewer and writes its frames to the
// HTTP response, so the object can hibernate between events while viewers wait
// (DESIGN.md, "Watching"); while the job is busy, its object serves them itself (see
// fanout.ts, "Direct streams"). The object sends these frames already in their wire
// format, each prefixed with the seq it carries ("12\n<wire>"; a batch of them is one such
// frame: the last seq, then every wire text), so the Worker only writes them through, and
// answers the object's marks ("12 <token>\n") as the viewer reads: what
// the Worker holds for a viewer is bounded by the object's CREDIT plus the response's
// HIGH_WATER_BYTES, however slowly it reads.
import type { JobRpc } from "../job/job-object";
import type { ClientFrame } from "../protocol";
import { HAND_OFF_HEADER } from "../lib/direct-stream";
import { CLOSE, type Heartbeat } from "../lib/fanout";
import { isGoneReason } from "../lib/job-state";
import { safeClose } from "../lib/websocket";

/** Bytes the response queues before the Worker stops acknowledging (the object then pauses). */
export const HIGH_WATER_BYTES = 64 * 1024;

export interface StreamFormat {
  headers: Record<string, string>;
  heartbeat: Heartbeat;
  /** The line that ends a continued stream whose rest could not be had. */
  interrupted(now: number): string;
  /** The line that ends a stream whose job was deleted or expired (`reason` when known: "job deleted", "job expired"). */
  gone(now: number, reason: string | null): string;
}

/** A frame from the object: the seq it carries and its wire text, or a mark's token. */
export type BridgeFrame = { seq: number; wire: string; token?: string };

export interface SubscribeOptions {
  since: number;
  format: "sse" | "text";
  /** Who the viewer is, for the per-client subscriber limit. */
  client: string;
  /** An EventSource reconnecting (it sent Last-Event-ID): a job whose end it saw answers 204. */
  resume: boolean;
  /** The object may answer with a direct stream (200) instead: for viewers that reconnect by themselves, or text (continued). */
  direct?: boolean;
  /** The rest of this handed-off direct stream (its HAND_OFF_HEADER), for `continuedBody`. */
  handOff?: string;
  /** Only ask (for a HEAD): the object answers as it would the subscribe (200, 204, 404, 429) and subscribes no one. */
  probe?: boolean;
}

/** A WebSocket to an object (a job, an owner index) whose frames are queued until a handler takes them. */
export class Subscription<F = BridgeFrame> {
  #queue: (F | "closed")[] = [];
  #handler: ((frame: F | "closed") => void) | null = null;
  /** How the object closed the socket: 1000 once the job ended or was deleted, else it went away (a restart). */
  closeCode: number | null = null;
  /** Why: GONE_REASONS for a deleted or expired job. */
  closeReason = "";

  constructor(readonly socket: WebSocket, parse: (data: unknown) => F | null) {
    socket.addEventListener("message", (message) => {
      const frame = parse(message.data);
      if (frame !== null) this.#deliver(frame);
    });
    socket.addEventListener("close", (event) => {
      this.closeCode = event.code;
      this.closeReason = event.reason;
      this.#deliver("closed");
    });
    socket.accept();
  }

  onFrame(handler: (frame: F | "closed") => void): void {
    this.#handler = handler;
    for (const frame of this.#queue.splice(0)) handler(frame);
  }

  /** The first frame of every connection is the snapshot; null if the socket closed first. */
  first(): Promise<F | null> {
    return new Promise((resolve) => {
      this.#handler = (frame) => {
        this.#handler = null;
        if (frame !== "closed") this.#queue.shift();
        resolve(frame === "closed" ? null : frame);
      };
      const head = this.#queue[0];
      if (head !== undefined) this.#handler(head);
    });
  }

  /** Answers a mark: everything before it was handled. */
  ack(token: string): void {
    try {
      this.socket.send(JSON.stringify({ type: "ack", token } satisfies ClientFrame));
    } catch {
      // Closing: nothing left to acknowledge.
    }
  }

  close(code: number, reason: string): void {
    safeClose(this.socket, code, reason);
  }

  #deliver(frame: F | "closed"): void {
    if (this.#handler) this.#handler(frame);
    else this.#queue.push(frame);
  }
}

/** Opens a bridged subscription, or returns the object's direct stream (200), refusal (404, 429) or 204 as a Response. */
export async function subscribe(job: JobRpc, options: SubscribeOptions): Promise<Subscription | Response> {
  const query: Record<string, string> = { since: String(options.since), format: options.format, client: options.client };
  if (options.resume) query.resume = "";
  if (options.direct) query.direct = "";
  if (options.handOff !== undefined) query.handoff = options.handOff;
  if (options.probe) query.probe = "";
  const socket = await openSocket(job, query);
  return socket instanceof Response ? socket : new Subscription(socket, parseFrame);
}

/** A WebSocket to an object that serves subscriptions (a job, an owner index), or its refusal. */
export async function openSocket(target: { fetch(request: Request): Promise<Response> }, query: Record<string, string>): Promise<WebSocket | Response> {
  const response = await target.fetch(new Request(`https://object/subscribe?${new URLSearchParams(query)}`, { headers: { Upgrade: "websocket" } }));
  return response.status === 101 && response.webSocket ? response.webSocket : response;
}

/** "12\n<wire>" → { seq: 12, wire }, "12 <token>\n" → a mark; frames come from our own object, but a stream must never die on a bad one. */
export function parseFrame(data: unknown): BridgeFrame | null {
  if (typeof data !== "string") return null;
  const newline = data.indexOf("\n");
  const [head = "", token] = (newline > 0 ? data.slice(0, newline) : "").split(" ");
  const seq = /^\d+$/.test(head) ? Number(head) : NaN;
  if (!Number.isSafeInteger(seq)) return null;
  return token === undefined ? { seq, wire: data.slice(newline + 1) } : { seq, wire: "", token };
}

const encoder = new TextEncoder();

/** What a viewer's response tells its writer: the reader made room (the moment to answer marks), or left. */
export interface BodyEvents {
  room(): void;
  cancel(): void;
}

/**
 * A response body the Worker writes text to, for the bridges of one job and of many,
 * with the format's heartbeat after a quiet while. The runtime learns that a viewer hung
 * up only when a write fails: the heartbeat is also what lets a quiet viewer's
 * subscriber go.
 */
abstract class ViewerBody {
  #open = true;
  #lastWrite = Date.now();
  #heartbeat: ReturnType<typeof setTimeout> | null = null;

  constructor(heartbeat?: Heartbeat) {
    if (heartbeat) this.#heartbeat = setTimeout(() => this.#beat(heartbeat), heartbeat.afterMs);
  }

  /** Whether the body holds less than HIGH_WATER_BYTES: what came before has been read. */
  abstract get hasRoom(): boolean;
  protected abstract push(bytes: Uint8Array): void;
  protected abstract end(): void;

  write(text: string): void {
    if (!this.#open || text === "") return;
    this.push(encoder.encode(text));
    this.#lastWrite = Date.now();
  }

  close(): void {
    if (!this.#open) return;
    this.stop();
    this.end();
  }

  protected stop(): void {
    this.#open = false;
    if (this.#heartbeat !== null) clearTimeout(this.#heartbeat);
  }

  /**
   * One timer per viewer that looks at the last write, rather than a timer re-armed on
   * every write: the bench profiled that re-arming at ~11 % of the thread.
   */
  #beat(heartbeat: Heartbeat): void {
    const quiet = Date.now() - this.#lastWrite;
    if (quiet >= heartbeat.afterMs) this.write(heartbeat.text(Date.now()));
    if (this.#open) this.#heartbeat = setTimeout(() => this.#beat(heartbeat), heartbeat.afterMs - (quiet >= heartbeat.afterMs ? 0 : quiet));
  }
}

/** A body of its own: `room` whenever the reader has taken enough that it holds less than HIGH_WATER_BYTES. */
export class PacedBody extends ViewerBody {
  readonly body: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;

  constructor(events: BodyEvents, heartbeat?: Heartbeat) {
    super(heartbeat);
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => events.room(),
        cancel: () => {
          this.stop();
          events.cancel();
        },
      },
      { highWaterMark: HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength },
    );
  }

  get hasRoom(): boolean {
    return (this.#controller.desiredSize ?? 0) > 0;
  }

  protected push(bytes: Uint8Array): void {
    this.#controller.enqueue(bytes);
  }

  protected end(): void {
    this.#controller.close();
  }
}

/** Writes after what a direct stream passed on, to the same response: `room` as writes are taken. */
class WriterBody extends ViewerBody {
  /** Bytes written and not yet taken by the response. */
  #queued = 0;

  constructor(private readonly writer: WritableStreamDefaultWriter<Uint8Array>, private readonly events: BodyEvents, heartbeat?: Heartbeat) {
    super(heartbeat);
  }

  get hasRoom(): boolean {
    return this.#queued < HIGH_WATER_BYTES;
  }

  protected push(bytes: Uint8Array): void {
    this.#queued += bytes.byteLength;
    this.writer.write(bytes).then(
      () => {
        this.#queued -= bytes.byteLength;
        if (this.hasRoom) this.events.room();
      },
      () => {
        // The viewer left.
        this.stop();
        this.events.cancel();
      },
    );
  }

  protected end(): void {
    this.writer.close().catch(() => {});
  }
}

/**
 * Writes an object's frames to a body: the first (the snapshot, already read), the rest,
 * and the end when the object closes the socket after the terminal event. Frames are
 * acknowledged while the viewer keeps up; a viewer that goes away closes its WebSocket,
 * which removes it from the job.
 */
function relay<B extends ViewerBody>(subscription: Subscription, first: BridgeFrame, format: StreamFormat, makeBody: (events: BodyEvents) => B): B {
  /** The latest mark not yet answered: answered once the viewer keeps up. */
  let mark: string | null = null;
  const answer = () => {
    if (mark === null) return;
    subscription.ack(mark);
    mark = null;
  };
  const body = makeBody({ room: answer, cancel: () => subscription.close(CLOSE.normal, "viewer left") });
  body.write(first.wire);
  subscription.onFrame((frame) => {
    if (frame === "closed") {
      // The object went away (a deploy, a restart), or the job did: a text viewer, which will
      // not reconnect, is told (its stream would otherwise just stop).
      if (subscription.closeCode !== CLOSE.normal) body.write(format.interrupted(Date.now()));
      else if (isGoneReason(subscription.closeReason)) body.write(format.gone(Date.now(), subscription.closeReason));
      subscription.close(CLOSE.normal, "done");
      return body.close();
    }
    if (frame.token === undefined) return body.write(frame.wire);
    // The viewer has read what came before the mark once the body has room again.
    mark = frame.token;
    if (body.hasRoom) answer();
  });
  return body;
}

/** A bridged response body: the snapshot, then the object's frames to the end. */
export function streamBody(subscription: Subscription, snapshot: BridgeFrame, format: StreamFormat): ReadableStream<Uint8Array> {
  return relay(subscription, snapshot, format, (events) => new PacedBody(events, format.heartbeat)).body;
}

/**
 * A direct stream the Worker continues (the text view: `curl -N` does not reconnect):
 * passed through natively while the object serves it, then, once the object hands it off
 * before a long wait or at the end, the rest bridged, from the last frame the viewer read,
 * into the same response. The object says which stream by HAND_OFF_HEADER; a stream that
 * ended with the job has no rest (204), and the response ends. If the rest cannot be had
 * (the object restarted meanwhile), a last line says so. The pipe costs the Worker some
 * 35–45 µs a frame (the bench), where a stream passed through untouched costs nothing.
 */
export function continuedBody(job: JobRpc, direct: Response, client: string, format: StreamFormat): ReadableStream<Uint8Array> {
  const { readable, writable } = new IdentityTransformStream({ highWaterMark: HIGH_WATER_BYTES });
  const id = direct.headers.get(HAND_OFF_HEADER) ?? "";
  const rest = async () => {
    // Ends when the object's stream does (or is cut); rejects too if the viewer left.
    await direct.body!.pipeTo(writable, { preventClose: true, preventAbort: true }).catch(() => {});
    const writer = writable.getWriter();
    if (writer.desiredSize === null) return; // the viewer left
    const next = await subscribe(job, { since: 0, format: "text", client, resume: false, handOff: id }).catch(() => null);
    if (next instanceof Subscription) {
      const first = await next.first();
      if (first !== null) return void relay(next, first, format, (events) => new WriterBody(writer, events, format.heartbeat));
    }
    // 204: it ended with the job; 404: the job was deleted (or expired) meanwhile, which the
    // viewer is told. Anything else says the stream was cut.
    const status = next instanceof Response ? next.status : null;
    const last = status === 204 ? "" : status === 404 ? format.gone(Date.now(), null) : format.interrupted(Date.now());
    if (last) await writer.write(encoder.encode(last)).catch(() => {});
    await writer.close().catch(() => {});
  };
  void rest();
  return readable;
}

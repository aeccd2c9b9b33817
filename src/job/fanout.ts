// The job's subscribers are its hibernatable WebSockets: the object may sleep between
// events while they stay connected, and ping/pong is answered by the runtime.
//
// Flow control. The object sends each subscriber at most CREDIT characters of frames
// ahead of its acknowledgements (`{"type":"ack","seq":N}`), so what it holds for a
// subscriber is bounded whatever the job's history or the subscriber's speed. History
// is read from storage a page at a time as acks arrive; live events go straight to a
// subscriber that has everything before them and credit left. A subscriber out of credit
// gets one `paused` frame and no more until it acks; it then continues from storage at
// its own pace, and rejoins the live tail when it catches up. Nobody is dropped for being
// slow, and nothing it missed is skipped.
//
// Subscribers of the Worker's SSE and text bridges ask for frames already in their wire
// format, prefixed with the seq they carry ("12\n<wire text>"), so the Worker only writes
// them through; an empty wire text is their `paused`.
import { isTerminalEvent } from "../lib/job-state";
import { safeClose } from "../lib/websocket";
import { sseEvent, ssePresence, sseSnapshot } from "../live/sse";
import { TextFormatter } from "../live/text";
import type { JobEvent, JobSnapshot, ServerFrame } from "../protocol";

/** The only text frame besides acks; the runtime answers it without waking the object. */
export const PING = "ping";
export const PONG = "pong";
/** Larger client frames are refused (1009). */
export const MAX_CLIENT_FRAME_BYTES = 1_024;
/** Characters of frames the object sends a subscriber ahead of its acks. */
export const CREDIT = 256 * 1024;
/**
 * Clients ack at least this often (characters received) and whenever they get `paused`.
 * A paused subscriber is resumed once its unacknowledged frames are down to half the credit.
 */
export const ACK_EVERY = 64 * 1024;
/** Presence frames go out at most this often. */
const PRESENCE_INTERVAL_MS = 1_000;
const PAGE_EVENTS = 256;

export const CLOSE = {
  normal: 1000,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
  tryAgainLater: 1013,
} as const;

export type Format = "json" | "sse" | "text";

/** What a subscriber asked for, kept as the socket's attachment so it outlives hibernation. */
interface Attachment {
  format: Format;
  client: string;
  /** The last seq sent; "live" while the subscriber is caught up (then it is the log's end). */
  sent: number | "live";
}

interface Cursor {
  socket: WebSocket;
  format: Format;
  client: string;
  sent: number;
  /** Characters sent and not acknowledged, and per frame: seq, characters. */
  unacked: number;
  inflight: number[];
  paused: boolean;
  text: TextFormatter | null;
}

/** Read access to the log, for replay. */
export interface LogReader {
  lastSeq(): number;
  eventsAfter(since: number, limit: number): JobEvent[];
  /** The job has ended: a subscriber that has every event is closed. */
  ended(): boolean;
  /** For text viewers after hibernation: the columns to start from. */
  snapshot(): JobSnapshot | null;
}

export type SubscribeRefusal = "too_many" | "too_many_from_client";

export class Fanout {
  readonly #cursors = new Map<WebSocket, Cursor>();
  readonly #perClient = new Map<string, number>();
  #presenceTimer: ReturnType<typeof setTimeout> | null = null;
  #presenceSent = -1;

  constructor(private readonly ctx: DurableObjectState, private readonly log: LogReader) {
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    // Woken from hibernation: the subscribers are still connected; rebuild their cursors.
    for (const socket of ctx.getWebSockets()) {
      const attachment = socket.deserializeAttachment() as Attachment | null;
      if (attachment) this.#track(socket, attachment);
    }
  }

  get count(): number {
    return this.#cursors.size;
  }

  /** Whether one more subscriber from `client` fits the job's caps. */
  admit(client: string, limits: { total: number; perClient: number }): SubscribeRefusal | null {
    if (this.#cursors.size >= limits.total) return "too_many";
    return (this.#perClient.get(client) ?? 0) >= limits.perClient ? "too_many_from_client" : null;
  }

  /** Accepts a subscriber: the snapshot, then the history after `since` as credit allows, then live events. */
  subscribe(snapshot: JobSnapshot, since: number, format: Format, client: string): Response {
    const { 0: remote, 1: socket } = new WebSocketPair();
    this.ctx.acceptWebSocket(socket);
    const cursor = this.#track(socket, { format, client, sent: Math.min(since, snapshot.lastSeq) });
    const viewers = { ...snapshot, viewers: this.#cursors.size };
    this.#send(cursor, cursor.sent, this.#snapshotFrame(cursor, viewers, since));
    this.#pump(cursor);
    this.#presenceChanged();
    return new Response(null, { status: 101, webSocket: remote });
  }

  /** Newly written events, in order: to every subscriber that has all before them and credit left. */
  broadcast(events: JobEvent[]): void {
    const first = events[0]?.seq;
    if (first === undefined) return;
    const wire = { json: [] as string[], sse: [] as string[] };
    for (const cursor of this.#cursors.values()) {
      if (cursor.sent !== first - 1 || cursor.paused) continue;
      for (const [i, event] of events.entries()) {
        if (cursor.unacked >= CREDIT) {
          this.#pause(cursor);
          break;
        }
        this.#send(cursor, event.seq, this.#eventFrame(cursor, event, i, wire));
        if (isTerminalEvent(event)) {
          this.#finish(cursor);
          break;
        }
      }
    }
  }

  /** A subscriber processed everything up to `seq`: its credit returns, and its replay goes on. */
  ack(socket: WebSocket, seq: number): void {
    const cursor = this.#cursors.get(socket);
    if (!cursor) return;
    let i = 0;
    while (i < cursor.inflight.length && cursor.inflight[i]! <= seq) {
      cursor.unacked -= cursor.inflight[i + 1]!;
      i += 2;
    }
    cursor.inflight.splice(0, i);
    if (cursor.inflight.length === 0) cursor.unacked = 0;
    // Resume only once half the credit is back, so a paused subscriber gets a stretch of
    // frames per round trip rather than one frame per ack.
    if (cursor.paused && cursor.unacked <= CREDIT / 2) {
      cursor.paused = false;
      this.#pump(cursor);
    }
  }

  /** A subscriber went away. */
  closed(socket: WebSocket): void {
    const cursor = this.#cursors.get(socket);
    if (!cursor) return;
    this.#cursors.delete(socket);
    const left = (this.#perClient.get(cursor.client) ?? 1) - 1;
    if (left > 0) this.#perClient.set(cursor.client, left);
    else this.#perClient.delete(cursor.client);
    this.#presenceChanged();
  }

  /** Subscribers that have every event are closed now; the others once their replay reaches the end. */
  closeCaughtUp(reason: string): void {
    for (const cursor of this.#cursors.values()) {
      if (cursor.sent >= this.log.lastSeq()) this.#finish(cursor, reason);
    }
  }

  closeAll(code: number, reason: string): void {
    for (const socket of this.#cursors.keys()) safeClose(socket, code, reason);
    this.#cursors.clear();
    this.#perClient.clear();
  }

  /** Anything but an ack (the auto-answered ping never gets here) is a protocol violation. */
  message(socket: WebSocket, message: string | ArrayBuffer): void {
    if (typeof message !== "string") return safeClose(socket, CLOSE.unsupportedData, "binary frames are not supported");
    if (message.length > MAX_CLIENT_FRAME_BYTES) return safeClose(socket, CLOSE.tooBig, "frame too large");
    const seq = parseAck(message);
    if (seq === null) return safeClose(socket, CLOSE.policyViolation, `unexpected frame: only "${PING}" and acks are accepted`);
    this.ack(socket, seq);
  }

  #track(socket: WebSocket, attachment: Attachment): Cursor {
    const sent = attachment.sent === "live" ? this.log.lastSeq() : attachment.sent;
    const cursor: Cursor = {
      socket, format: attachment.format, client: attachment.client, sent, unacked: 0, inflight: [], paused: false,
      text: attachment.format === "text" ? new TextFormatter() : null,
    };
    if (cursor.text && attachment.sent === "live") {
      const snapshot = this.log.snapshot();
      if (snapshot) cursor.text.snapshot(snapshot, Date.now(), snapshot.lastSeq);
    }
    this.#cursors.set(socket, cursor);
    this.#perClient.set(cursor.client, (this.#perClient.get(cursor.client) ?? 0) + 1);
    return cursor;
  }

  /** Sends from storage until the subscriber is caught up or out of credit. */
  #pump(cursor: Cursor): void {
    const last = this.log.lastSeq();
    while (cursor.sent < last && cursor.unacked < CREDIT && this.#cursors.has(cursor.socket)) {
      const events = this.log.eventsAfter(cursor.sent, PAGE_EVENTS);
      if (events.length === 0) break;
      for (const event of events) {
        if (cursor.unacked >= CREDIT) break;
        this.#send(cursor, event.seq, this.#eventFrame(cursor, event));
      }
    }
    if (!this.#cursors.has(cursor.socket)) return;
    if (cursor.sent < last) this.#pause(cursor);
    else if (this.log.ended()) this.#finish(cursor);
    this.#remember(cursor);
  }

  #pause(cursor: Cursor): void {
    if (cursor.paused) return;
    cursor.paused = true;
    const frame = cursor.format === "json" ? JSON.stringify({ type: "paused", seq: cursor.sent } satisfies ServerFrame) : `${cursor.sent}\n`;
    this.#write(cursor, frame);
    this.#remember(cursor);
  }

  #finish(cursor: Cursor, reason = "job finished"): void {
    safeClose(cursor.socket, CLOSE.normal, reason);
    this.closed(cursor.socket);
  }

  /** The attachment is written when a subscriber changes between live and paging, never per event. */
  #remember(cursor: Cursor): void {
    const attachment: Attachment = { format: cursor.format, client: cursor.client, sent: cursor.paused ? cursor.sent : "live" };
    cursor.socket.serializeAttachment(attachment);
  }

  #send(cursor: Cursor, seq: number, frame: string): void {
    cursor.sent = Math.max(cursor.sent, seq);
    cursor.unacked += frame.length;
    cursor.inflight.push(seq, frame.length);
    this.#write(cursor, frame);
  }

  #write(cursor: Cursor, frame: string): void {
    try {
      cursor.socket.send(frame);
    } catch {
      // Closed under us: webSocketClose removes the cursor.
    }
  }

  #snapshotFrame(cursor: Cursor, snapshot: JobSnapshot, since: number): string {
    if (cursor.format === "json") return JSON.stringify({ type: "snapshot", snapshot } satisfies ServerFrame);
    const wire = cursor.format === "sse" ? sseSnapshot(snapshot) : cursor.text!.snapshot(snapshot, Date.now(), since);
    return `${cursor.sent}\n${wire}`;
  }

  /** An event's frame; `shared` caches each format's text across subscribers within one broadcast. */
  #eventFrame(cursor: Cursor, event: JobEvent, index?: number, shared?: { json: string[]; sse: string[] }): string {
    if (cursor.format === "text") return `${event.seq}\n${cursor.text!.event(event)}`;
    const cache = shared && index !== undefined ? shared[cursor.format] : null;
    const cached = cache?.[index!];
    if (cached !== undefined) return cached;
    const frame = cursor.format === "json" ? JSON.stringify({ type: "event", event } satisfies ServerFrame) : `${event.seq}\n${sseEvent(event)}`;
    if (cache) cache[index!] = frame;
    return frame;
  }

  /** Viewers came or went: tell the caught-up subscribers, at most once a second. */
  #presenceChanged(): void {
    this.#presenceTimer ??= setTimeout(() => {
      this.#presenceTimer = null;
      const viewers = this.#cursors.size;
      if (viewers === this.#presenceSent) return;
      this.#presenceSent = viewers;
      const json = JSON.stringify({ type: "presence", viewers } satisfies ServerFrame);
      // Like events, presence counts against a subscriber's credit: one that stopped reading stops getting it.
      for (const cursor of this.#cursors.values()) {
        if (cursor.paused || cursor.format === "text" || cursor.unacked >= CREDIT) continue;
        this.#send(cursor, cursor.sent, cursor.format === "json" ? json : `${cursor.sent}\n${ssePresence(viewers)}`);
      }
    }, PRESENCE_INTERVAL_MS);
  }
}

/** `{"type":"ack","seq":N}` → N; anything else → null. */
export function parseAck(message: string): number | null {
  try {
    const frame = JSON.parse(message) as { type?: unknown; seq?: unknown } | null;
    return frame?.type === "ack" && Number.isSafeInteger(frame.seq) && (frame.seq as number) >= 0 ? (frame.seq as number) : null;
  } catch {
    return null;
  }
}

// Subscribers as hibernatable WebSockets, fed from an ordered log: a job's events, or an
// owner's feed of job changes. The object may sleep between events while they stay
// connected, and ping/pong is answered by the runtime.
//
// Flow control. The object sends each subscriber at most CREDIT characters of frames
// ahead of its acknowledgements (`{"type":"ack","seq":N}`), so what it holds for a
// subscriber is bounded whatever the history or the subscriber's speed. History is read
// from storage a page at a time as acks arrive; live entries go straight to a subscriber
// that has everything before them and credit left. A subscriber out of credit gets one
// `paused` frame and no more until it acks; it then continues from storage at its own
// pace, and rejoins the live tail when it catches up. Nobody is dropped for being slow,
// and nothing it missed is skipped.
//
// Subscribers of the Worker's SSE and text bridges ask for frames already in their wire
// format, prefixed with the seq they carry ("12\n<wire text>"), so the Worker only writes
// them through; an empty wire text is their `paused`.
import { safeClose } from "./websocket";

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
const PAGE_ENTRIES = 256;

export const CLOSE = {
  normal: 1000,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
  tryAgainLater: 1013,
} as const;

export type Format = "json" | "sse" | "text";

/** An ordered log the subscribers follow. */
export interface Source<S, E extends { seq: number }> {
  lastSeq(): number;
  entriesAfter(since: number, limit: number): E[];
  /** The log is complete: a subscriber that has every entry is closed. */
  ended(): boolean;
  /** Whether this entry is the last there will be. */
  isLast(entry: E): boolean;
}

/** How snapshots and entries look in each format; `state` is per subscriber (the text view's columns). */
export interface Frames<S, E, State> {
  state(format: Format): State;
  /** After hibernation: a live subscriber's state, as of the log's end. */
  resumeState(format: Format): State;
  snapshot(format: Format, snapshot: S, since: number, state: State): string;
  entry(format: Format, entry: E, state: State): string;
  /** Whether every subscriber of `format` sees the same text for an entry, so it is made once per broadcast. */
  shared(format: Format): boolean;
  presence(format: Format, viewers: number): string | null;
}

/** What a subscriber asked for, kept as the socket's attachment so it outlives hibernation. */
interface Attachment {
  format: Format;
  client: string;
  /** The last seq sent; "live" while the subscriber is caught up (then it is the log's end). */
  sent: number | "live";
}

interface Cursor<State> {
  socket: WebSocket;
  format: Format;
  client: string;
  sent: number;
  /** Characters sent and not acknowledged, and per frame: seq, characters. */
  unacked: number;
  inflight: number[];
  paused: boolean;
  state: State;
}

export type SubscribeRefusal = "too_many" | "too_many_from_client";

export class Fanout<S extends { viewers?: number }, E extends { seq: number }, State = null> {
  readonly #cursors = new Map<WebSocket, Cursor<State>>();
  readonly #perClient = new Map<string, number>();
  #presenceTimer: ReturnType<typeof setTimeout> | null = null;
  #presenceSent = -1;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly source: Source<S, E>,
    private readonly frames: Frames<S, E, State>,
  ) {
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

  /** Whether one more subscriber from `client` fits the caps. */
  admit(client: string, limits: { total: number; perClient: number }): SubscribeRefusal | null {
    if (this.#cursors.size >= limits.total) return "too_many";
    return (this.#perClient.get(client) ?? 0) >= limits.perClient ? "too_many_from_client" : null;
  }

  /** Accepts a subscriber: the snapshot, then the history after `since` as credit allows, then live entries. */
  subscribe(snapshot: S, since: number, format: Format, client: string): Response {
    const { 0: remote, 1: socket } = new WebSocketPair();
    this.ctx.acceptWebSocket(socket);
    const cursor = this.#track(socket, { format, client, sent: Math.min(since, this.source.lastSeq()) });
    const frame = this.frames.snapshot(format, { ...snapshot, viewers: this.#cursors.size }, since, cursor.state);
    this.#send(cursor, cursor.sent, this.#wire(cursor, cursor.sent, frame));
    this.#pump(cursor);
    this.#presenceChanged();
    return new Response(null, { status: 101, webSocket: remote });
  }

  /** Newly written entries, in order: to every subscriber that has all before them and credit left. */
  broadcast(entries: E[]): void {
    const first = entries[0]?.seq;
    if (first === undefined) return;
    const shared = new Map<Format, string[]>();
    for (const cursor of this.#cursors.values()) {
      if (cursor.sent !== first - 1 || cursor.paused) continue;
      const cache = this.frames.shared(cursor.format) ? (shared.get(cursor.format) ?? shared.set(cursor.format, []).get(cursor.format)!) : null;
      for (const [i, entry] of entries.entries()) {
        if (cursor.unacked >= CREDIT) {
          this.#pause(cursor);
          break;
        }
        const frame = cache?.[i] ?? this.#entryFrame(cursor, entry);
        if (cache) cache[i] = frame;
        this.#send(cursor, entry.seq, frame);
        if (this.source.isLast(entry)) {
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

  /** The runtime's webSocketClose: the subscriber goes, and the closing handshake completes. */
  hungUp(socket: WebSocket, code: number, reason: string): void {
    this.closed(socket);
    // 1005 and 1006 are reserved and may not be sent.
    safeClose(socket, code === 1005 || code === 1006 ? CLOSE.normal : code, reason);
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

  #track(socket: WebSocket, attachment: Attachment): Cursor<State> {
    const live = attachment.sent === "live";
    const cursor: Cursor<State> = {
      socket, format: attachment.format, client: attachment.client, sent: live ? this.source.lastSeq() : (attachment.sent as number),
      unacked: 0, inflight: [], paused: false,
      state: live ? this.frames.resumeState(attachment.format) : this.frames.state(attachment.format),
    };
    this.#cursors.set(socket, cursor);
    this.#perClient.set(cursor.client, (this.#perClient.get(cursor.client) ?? 0) + 1);
    return cursor;
  }

  /** Sends from storage until the subscriber is caught up or out of credit. */
  #pump(cursor: Cursor<State>): void {
    const last = this.source.lastSeq();
    while (cursor.sent < last && cursor.unacked < CREDIT && this.#cursors.has(cursor.socket)) {
      const entries = this.source.entriesAfter(cursor.sent, PAGE_ENTRIES);
      if (entries.length === 0) break;
      for (const entry of entries) {
        if (cursor.unacked >= CREDIT) break;
        this.#send(cursor, entry.seq, this.#entryFrame(cursor, entry));
      }
    }
    if (!this.#cursors.has(cursor.socket)) return;
    if (cursor.sent < last) this.#pause(cursor);
    else if (this.source.ended()) this.#finish(cursor);
    this.#remember(cursor);
  }

  #pause(cursor: Cursor<State>): void {
    if (cursor.paused) return;
    cursor.paused = true;
    this.#write(cursor, cursor.format === "json" ? JSON.stringify({ type: "paused", seq: cursor.sent }) : `${cursor.sent}\n`);
    this.#remember(cursor);
  }

  #finish(cursor: Cursor<State>): void {
    safeClose(cursor.socket, CLOSE.normal, "the end");
    this.closed(cursor.socket);
  }

  /** The attachment is written when a subscriber changes between live and paging, never per entry. */
  #remember(cursor: Cursor<State>): void {
    const attachment: Attachment = { format: cursor.format, client: cursor.client, sent: cursor.paused ? cursor.sent : "live" };
    cursor.socket.serializeAttachment(attachment);
  }

  #entryFrame(cursor: Cursor<State>, entry: E): string {
    return this.#wire(cursor, entry.seq, this.frames.entry(cursor.format, entry, cursor.state));
  }

  /** Bridged formats carry their seq in front. */
  #wire(cursor: Cursor<State>, seq: number, text: string): string {
    return cursor.format === "json" ? text : `${seq}\n${text}`;
  }

  #send(cursor: Cursor<State>, seq: number, frame: string): void {
    cursor.sent = Math.max(cursor.sent, seq);
    cursor.unacked += frame.length;
    cursor.inflight.push(seq, frame.length);
    this.#write(cursor, frame);
  }

  #write(cursor: Cursor<State>, frame: string): void {
    try {
      cursor.socket.send(frame);
    } catch {
      // Closed under us: webSocketClose removes the cursor.
    }
  }

  /** Viewers came or went: tell the caught-up subscribers, at most once a second. */
  #presenceChanged(): void {
    this.#presenceTimer ??= setTimeout(() => {
      this.#presenceTimer = null;
      const viewers = this.#cursors.size;
      if (viewers === this.#presenceSent) return;
      this.#presenceSent = viewers;
      // Like entries, presence counts against a subscriber's credit: one that stopped reading stops getting it.
      for (const cursor of this.#cursors.values()) {
        const text = this.frames.presence(cursor.format, viewers);
        if (text === null || cursor.paused || cursor.unacked >= CREDIT) continue;
        this.#send(cursor, cursor.sent, this.#wire(cursor, cursor.sent, text));
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

// Subscribers as hibernatable WebSockets, fed from an ordered log: a job's events, or an
// owner's feed of job changes. The object may sleep between events while they stay
// connected, and ping/pong is answered by the runtime.
//
// Flow control. The object sends each subscriber at most CREDIT bytes of frames (as
// UTF-8, as they go on the wire) that it has not confirmed reading, so what it holds for a subscriber is bounded
// whatever the history or the subscriber's speed. After every ACK_EVERY bytes, and
// when it runs out of credit, it sends a `mark` with a random token; a subscriber
// answers with an ack that quotes the token (`{"type":"ack","token":"…"}`). Only such an
// ack returns credit, and only up to its mark: a client cannot confirm what it has not
// read, because the mark comes after those frames on the same socket. History is read
// from storage a page at a time as credit returns; live entries go straight to a
// subscriber that has everything before them and credit left. One out of credit gets no
// more until it confirms, then continues from storage at its own pace and rejoins the
// live tail when it catches up. Nobody is dropped for being slow; nothing is skipped.
//
// A WebSocket subscriber may ask for batches (`batch`): the frames one call sends it (a
// page of history, a burst of entries) go as one message, a frame a line (JSON has no raw
// newline), cut after each mark. A browser or Node spends ~0.1 ms on each message
// received whatever its size: a 99,000-event history took 13–15 s as single frames, 0.7–2.3 s batched.
// The Worker's bridges always get batches: "12\n<wire>…<wire>", the last frame's seq and
// every frame's wire text, which the Worker writes through as it did one frame's.
//
// Subscribers of the Worker's SSE and text bridges ask for frames already in their wire
// format, prefixed with the seq they carry ("12\n<wire text>"), so the Worker only writes
// them through; a mark is "12 <token>\n" (no wire text).
//
// Direct streams. While the object is awake anyway (its job runs), an SSE or text viewer
// can be served by the object itself, on a response stream the Worker passes through:
// one hop instead of two. Its flow control is the stream's own: frames are queued while
// the stream holds less than CREDIT bytes, and a viewer that stops reading is paused and
// continues from storage as it reads (the stream asks for more). An open stream keeps the
// object from hibernating, so before a long wait the object hands them off (`handOff`):
// each response ends, and the EventSource reconnects with its Last-Event-ID to a bridge.
// A viewer that does not reconnect by itself (`curl -N` of the text view) is continued by
// the Worker, which pipes the stream through and then asks for the rest by the stream's
// hand-off id (`continueHandOff`): from the last frame its viewer read, with its state.
import { toBase64Url } from "./crypto";
import { DirectStream, HAND_OFF_HEADER, hold, lastRead } from "./direct-stream";
import { safeClose } from "./websocket";

/** The only text frame besides acks; the runtime answers it without waking the object. */
export const PING = "ping";
export const PONG = "pong";
/** Longer client frames (in characters) are refused (1009). */
export const MAX_CLIENT_FRAME_CHARS = 1_024;
/** A subscriber's client key ("owner:<up to 128 chars>" or "ip:<address>") fits whole: no two clients share a cut. */
export const MAX_CLIENT_KEY = 140;
/**
 * Bytes of frames (UTF-8, as sent) the object sends a subscriber ahead of what it
 * confirmed reading. Counted in bytes, not characters: a frame of non-ASCII text is up
 * to three times as long on the wire, and the runtime's WebSocket has no bufferedAmount
 * to tell what is queued.
 */
export const CREDIT = 256 * 1024;
/**
 * A mark follows every this many bytes of frames. A subscriber out of credit is
 * resumed once what it has not confirmed is down to half the credit.
 */
export const ACK_EVERY = 64 * 1024;
/** A direct stream that wrote nothing this long gets the format's heartbeat (checked every third of it). */
export const HEARTBEAT_MS = 15_000;
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
export interface Source<_Snapshot, E extends { seq: number }> {
  lastSeq(): number;
  /** Up to `limit` entries after `since`; a source may stop near `maxChars` of them. */
  entriesAfter(since: number, limit: number, maxChars: number): E[];
  /** The log is complete: a subscriber that has every entry is closed. */
  ended(): boolean;
  /** Whether this entry is the last there will be. */
  isLast(entry: E): boolean;
}

/** What a quiet direct stream writes after `afterMs` without a write. */
export interface Heartbeat {
  afterMs: number;
  text(now: number): string;
}

/** How snapshots and entries look in each format; `state` is per subscriber (the text view's columns). */
export interface Frames<S, E, State> {
  state(format: Format): State;
  /** A subscriber's state as of `seq` (after hibernation: the log's end; after a cut: the last frame read). */
  resumeState(format: Format, seq: number): State;
  snapshot(format: Format, snapshot: S, since: number, state: State): string;
  entry(format: Format, entry: E, state: State): string;
  /**
   * Subscribers with the same key see the same text for the same entries (and end in the
   * same state), so a broadcast makes each frame once per key; null: made for each.
   */
  shareKey(format: Format, state: State): string | null;
  /** A copy of a state, for a subscriber that took shared frames to go on from. */
  copyState(state: State): State;
  presence(format: Format, viewers: number): string | null;
  /** What a quiet direct stream writes to stay open through proxies (and to learn its viewer left). */
  heartbeat(format: Format): Heartbeat | null;
  /** Whether the Worker continues a handed-off direct stream of `format` (its viewer does not reconnect by itself). */
  continued(format: Format): boolean;
}

/** What a subscriber asked for, kept as the socket's attachment so it outlives hibernation. */
interface Attachment {
  format: Format;
  client: string;
  /** The last seq sent; "live" while the subscriber is caught up (then it is the log's end). */
  sent: number | "live";
  /** Frames in batches (absent in attachments written before batches). */
  batch?: boolean;
}

/** Where a subscriber's frames go: a hibernatable WebSocket, or a direct stream. */
type Sink = WebSocket | DirectStream;

interface Cursor<State> {
  sink: Sink;
  format: Format;
  client: string;
  sent: number;
  /** Bytes sent on this connection, and how many of them the subscriber confirmed reading (WebSockets). */
  position: number;
  confirmed: number;
  /** Bytes sent since the last mark, and each mark not yet answered: token → position. */
  sinceMark: number;
  marks: Map<string, number>;
  paused: boolean;
  /** Whether it takes batches, and the batch being made (frames sent in this call), if one is. */
  batch: boolean;
  pending: string[] | null;
  state: State;
  /** The number of viewers this subscriber was last told; -1: none yet. */
  viewers: number;
}

export type SubscribeRefusal = "too_many" | "too_many_from_client";

/**
 * Seconds a refused subscriber is asked to wait (Retry-After): a slot frees when a viewer
 * leaves, which cannot be foretold; without a hint, clients came back at once.
 */
export const SUBSCRIBER_RETRY_AFTER_S = 10;

/** An object's refusal of one more subscriber (the Worker passes its Retry-After on). */
export function tooManySubscribers(message: string): Response {
  return Response.json({ error: { code: "too_many_subscribers", message } }, { status: 429, headers: { "Retry-After": String(SUBSCRIBER_RETRY_AFTER_S) } });
}

export class Fanout<S extends { viewers?: number }, E extends { seq: number }, State = null> {
  readonly #subscribers = new Map<Sink, Cursor<State>>();
  readonly #perClient = new Map<string, number>();
  #woken = false;
  #presenceTimer: ReturnType<typeof setTimeout> | null = null;
  #streamTimer: ReturnType<typeof setTimeout> | null = null;
  /** Direct streams open (not ending). */
  #streams = 0;
  /** Direct streams ended while they held frames their viewers had not read: each ended when. */
  readonly #ending = new Map<DirectStream, number>();
  /** Direct streams handed off for the Worker to continue, by id, until it asks (or HAND_OFF_KEPT_MS passes). */
  readonly #handedOff = new Map<string, HandedOff<State>>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly source: Source<S, E>,
    private readonly frames: Frames<S, E, State>,
  ) {
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  /**
   * The subscribers. Woken from hibernation, they are still connected: their cursors are
   * rebuilt on first use, not in the constructor, where the object that owns this fan-out
   * is still being built (a text viewer's state reads that object's snapshot).
   */
  get #cursors(): Map<Sink, Cursor<State>> {
    if (!this.#woken) this.#wake(this.source.lastSeq());
    return this.#subscribers;
  }

  /**
   * Rebuilds the cursors of the sockets that stayed connected while the object slept.
   * `logEnd` is what a subscriber that was caught up then has: the log's end, unless the
   * first use is the broadcast of entries written since the object woke (they are in the
   * log already, and must still be sent).
   */
  #wake(logEnd: number): void {
    this.#woken = true;
    for (const socket of this.ctx.getWebSockets()) {
      const attachment = socket.deserializeAttachment() as Attachment | null;
      if (!attachment) continue;
      const cursor = this.#track(socket, attachment, logEnd);
      // It was paging when the object slept, and the marks it may answer are gone: it
      // gets a new one, which it can answer only once it has read all sent before.
      if (attachment.sent !== "live") {
        cursor.paused = true;
        this.#mark(cursor);
      }
    }
  }

  get count(): number {
    return this.#cursors.size;
  }

  /** Whether one more subscriber from `client` fits the caps. */
  admit(client: string, limits: { total: number; perClient: number }): SubscribeRefusal | null {
    // A handed-off stream keeps its viewer's slot until the Worker continues it (or HAND_OFF_KEPT_MS passes).
    if (this.#handedOff.size > 0) this.#forgetHandOffs();
    if (this.#cursors.size + this.#handedOff.size >= limits.total) return "too_many";
    return (this.#perClient.get(client) ?? 0) >= limits.perClient ? "too_many_from_client" : null;
  }

  /** Accepts a subscriber: the snapshot, then the history after `since` as credit allows, then live entries; `batch`: see above. */
  subscribe(snapshot: S, since: number, format: Format, client: string, batch = false): Response {
    const { 0: remote, 1: socket } = new WebSocketPair();
    this.ctx.acceptWebSocket(socket);
    this.#open(socket, since, format, client, { snapshot }, batch);
    return new Response(null, { status: 101, webSocket: remote });
  }

  /** The same on a direct stream (the Worker sets the response's headers); the object stays awake until it ends or is handed off. */
  subscribeStream(snapshot: S, since: number, format: Format, client: string): Response {
    const continued = this.frames.continued(format);
    const stream = new DirectStream(continued ? markToken() + markToken() : "", continued, CREDIT);
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => void (stream.controller = controller),
        // The stream holds less than CREDIT: a paused viewer read enough to go on.
        pull: () => {
          if (this.#ending.has(stream)) return this.#closeIfRead(stream);
          const cursor = this.#subscribers.get(stream);
          if (cursor?.paused) {
            cursor.paused = false;
            this.#pump(cursor);
          }
          return cursor && this.#subscribers.has(stream) && !cursor.paused ? stream.untilPaused() : undefined;
        },
        cancel: () => {
          stream.wake();
          this.#ending.delete(stream);
          this.closed(stream);
          this.#stopTendingIfIdle();
        },
      },
      { highWaterMark: CREDIT, size: (chunk) => chunk.byteLength },
    );
    this.#streams++;
    this.#open(stream, since, format, client, { snapshot });
    this.#tendStreams();
    return new Response(body, { headers: continued ? { [HAND_OFF_HEADER]: stream.id } : {} });
  }

  /**
   * Ends every direct stream, so the object may hibernate: the job is about to wait. Each
   * viewer reconnects (an EventSource does by itself, with its Last-Event-ID) and is
   * bridged, or is continued by the Worker (`continueHandOff`).
   */
  handOff(): void {
    this.#forgetHandOffs();
    const now = Date.now();
    for (const cursor of this.#cursors.values()) {
      if (!(cursor.sink instanceof DirectStream)) continue;
      this.#finish(cursor);
      if (!cursor.sink.held) continue;
      this.#handedOff.set(cursor.sink.id, { stream: cursor.sink, sent: cursor.sent, client: cursor.client, format: cursor.format, state: cursor.state, at: now });
      this.#countClient(cursor.client, 1);
    }
    this.#stopTendingIfIdle();
  }

  /**
   * The rest of a handed-off stream, on a WebSocket, for the Worker to write after what the
   * stream held: from the last frame its viewer read, in the state it had then, without a
   * snapshot. Without such a stream: 204 once the log is complete (the stream ended with
   * it), else 410 (the object restarted since, or the Worker asked too late).
   */
  continueHandOff(id: string): Response {
    this.#forgetHandOffs();
    const handed = this.#handedOff.get(id);
    if (!handed) return new Response(null, { status: this.source.ended() ? 204 : 410 });
    this.#forget(id, handed);
    // The Worker stopped reading before the stream was empty: what it holds is dropped.
    if (this.#ending.has(handed.stream)) this.#cut(handed.stream);
    const { 0: remote, 1: socket } = new WebSocketPair();
    this.ctx.acceptWebSocket(socket);
    const { cutAt } = handed.stream;
    // Cut: its state as of the last frame its viewer read, not the last one written.
    const state = cutAt === null ? handed.state : this.frames.resumeState(handed.format, cutAt);
    this.#open(socket, cutAt ?? handed.sent, handed.format, handed.client, { state });
    return new Response(null, { status: 101, webSocket: remote });
  }

  #forgetHandOffs(): void {
    const now = Date.now();
    for (const [id, handed] of this.#handedOff) if (now - handed.at > HAND_OFF_KEPT_MS) this.#forget(id, handed);
  }

  #forget(id: string, handed: HandedOff<State>): void {
    this.#handedOff.delete(id);
    this.#countClient(handed.client, -1);
  }

  #countClient(client: string, change: 1 | -1): void {
    const count = (this.#perClient.get(client) ?? 0) + change;
    if (count > 0) this.#perClient.set(client, count);
    else this.#perClient.delete(client);
  }

  /** Newly written entries, in order: to every subscriber that has all before them and credit left. */
  broadcast(entries: E[]): void {
    const first = entries[0]?.seq;
    if (first === undefined) return;
    if (!this.#woken) this.#wake(first - 1);
    // Frames that subscribers in the same state see alike are made once: text for sockets, bytes for streams.
    const made = { text: new Map<string, Made<State>[]>(), bytes: new Map<string, Made<State>[]>() };
    for (const cursor of this.#cursors.values()) {
      if (cursor.sent !== first - 1 || cursor.paused) continue;
      const key = this.frames.shareKey(cursor.format, cursor.state);
      const kind = cursor.sink instanceof DirectStream ? made.bytes : made.text;
      const cache = key === null ? null : (kind.get(key) ?? kind.set(key, []).get(key)!);
      /** The last shared frame this subscriber took: its state is the state after it. */
      let taken: Made<State> | null = null;
      // A lone entry, the live case, goes as it is: nothing to batch on the hot path.
      if (entries.length > 1) this.#startBatch(cursor);
      for (const [i, entry] of entries.entries()) {
        if (room(cursor) <= 0) {
          this.#pause(cursor);
          break;
        }
        let frame = cache?.[i];
        if (frame) taken = frame;
        else {
          if (taken) cursor.state = this.frames.copyState(taken.after);
          taken = null;
          const wire = this.#entryFrame(cursor, entry);
          frame = { wire, size: wireSize(wire), after: cache ? this.frames.copyState(cursor.state) : cursor.state };
          if (cache) cache[i] = frame;
        }
        this.#send(cursor, entry.seq, frame.wire, frame.size);
        if (this.source.isLast(entry)) {
          this.#finish(cursor);
          break;
        }
      }
      this.#endBatch(cursor);
      if (taken) cursor.state = this.frames.copyState(taken.after);
    }
  }

  /**
   * A subscriber answered a mark: it read everything before it, so that much credit
   * returns and its replay goes on. A token that is not an open mark of its (forged, or
   * from before the object hibernated) confirms nothing.
   */
  ack(socket: WebSocket, token: string): void {
    const cursor = this.#cursors.get(socket);
    const at = cursor?.marks.get(token);
    if (!cursor || at === undefined) return;
    cursor.confirmed = Math.max(cursor.confirmed, at);
    for (const [open, position] of cursor.marks) if (position <= at) cursor.marks.delete(open);
    // Resume only once half the credit is back, so a paused subscriber gets a stretch of
    // frames per round trip rather than one frame per ack.
    if (cursor.paused && unconfirmed(cursor) <= CREDIT / 2) {
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
  closed(sink: Sink): void {
    const cursor = this.#cursors.get(sink);
    if (!cursor) return;
    this.#cursors.delete(sink);
    if (sink instanceof DirectStream) this.#streams--;
    this.#countClient(cursor.client, -1);
    this.#presenceChanged();
  }

  closeAll(code: number, reason: string): void {
    for (const sink of this.#cursors.keys()) {
      if (sink instanceof DirectStream) this.#end(sink);
      else safeClose(sink, code, reason);
    }
    this.#cursors.clear();
    this.#perClient.clear();
    this.#handedOff.clear();
    this.#streams = 0;
  }

  /** Anything but an ack (the auto-answered ping never gets here) is a protocol violation. */
  message(socket: WebSocket, message: string | ArrayBuffer): void {
    if (typeof message !== "string") return safeClose(socket, CLOSE.unsupportedData, "binary frames are not supported");
    if (message.length > MAX_CLIENT_FRAME_CHARS) return safeClose(socket, CLOSE.tooBig, "frame too large");
    const token = parseAck(message);
    if (token === null) return safeClose(socket, CLOSE.policyViolation, `unexpected frame: only "${PING}" and acks are accepted`);
    this.ack(socket, token);
  }

  /** A new subscriber starts with a snapshot; a continued one (`state`) with an empty first frame, and its state. */
  #open(sink: Sink, since: number, format: Format, client: string, start: { snapshot: S } | { state: State }, batch = false): void {
    const logEnd = this.source.lastSeq();
    const cursor = this.#track(sink, { format, client, sent: Math.min(since, logEnd), batch }, logEnd);
    cursor.viewers = this.#cursors.size;
    if ("state" in start) cursor.state = start.state;
    // A resume replays from `since` in the state a replay from the start has there (the
    // text view's columns: fresh ones showed "-" until the next progress or step event).
    else if (cursor.sent > 0 && cursor.sent < logEnd) cursor.state = this.frames.resumeState(format, cursor.sent);
    if (sink instanceof DirectStream && sink.held) sink.held.base = cursor.sent;
    const frame = "snapshot" in start ? this.frames.snapshot(format, { ...start.snapshot, viewers: cursor.viewers }, since, cursor.state) : "";
    // The snapshot goes in the history's first batch.
    this.#startBatch(cursor);
    this.#send(cursor, cursor.sent, this.#wire(cursor, cursor.sent, frame));
    this.#pump(cursor);
    this.#presenceChanged();
  }

  /** `logEnd`: where a subscriber that was caught up ("live") stands. */
  #track(sink: Sink, attachment: Attachment, logEnd: number): Cursor<State> {
    const live = attachment.sent === "live";
    const cursor: Cursor<State> = {
      sink, format: attachment.format, client: attachment.client, sent: live ? logEnd : (attachment.sent as number),
      position: 0, confirmed: 0, sinceMark: 0, marks: new Map(), paused: false, viewers: -1,
      batch: !(sink instanceof DirectStream) && (attachment.batch === true || attachment.format !== "json"), pending: null,
      state: live ? this.frames.resumeState(attachment.format, logEnd) : this.frames.state(attachment.format),
    };
    this.#cursors.set(sink, cursor);
    this.#countClient(cursor.client, 1);
    return cursor;
  }

  /** Sends from storage until the subscriber is caught up or out of credit. */
  #pump(cursor: Cursor<State>): void {
    const last = this.source.lastSeq();
    this.#startBatch(cursor);
    while (cursor.sent < last && room(cursor) > 0 && this.#cursors.has(cursor.sink)) {
      // Read what the credit left can send, not a page of entries it cannot.
      const entries = this.source.entriesAfter(cursor.sent, PAGE_ENTRIES, room(cursor));
      if (entries.length === 0) break;
      for (const entry of entries) {
        if (room(cursor) <= 0) break;
        this.#send(cursor, entry.seq, this.#entryFrame(cursor, entry));
      }
    }
    if (this.#cursors.has(cursor.sink)) {
      if (cursor.sent < last) this.#pause(cursor);
      else if (this.source.ended()) this.#finish(cursor);
      this.#remember(cursor);
    }
    this.#endBatch(cursor);
  }

  /** Out of credit: nothing more until a mark is answered, and there is a mark to answer (or a stream asks for more). */
  #pause(cursor: Cursor<State>): void {
    if (cursor.paused) return;
    cursor.paused = true;
    if (cursor.sink instanceof DirectStream) cursor.sink.wake();
    else if (cursor.sinceMark > 0) this.#mark(cursor);
    this.#remember(cursor);
  }

  #mark(cursor: Cursor<State>): void {
    const token = markToken();
    cursor.marks.set(token, cursor.position);
    cursor.sinceMark = 0;
    // A batch ends at its mark: messages stay near ACK_EVERY, and the subscriber can answer
    // while the next one comes. A bridge's mark is a message of its own.
    if (cursor.format === "json") {
      this.#write(cursor, JSON.stringify({ type: "mark", seq: cursor.sent, token }));
      this.#flush(cursor);
    } else {
      this.#flush(cursor);
      this.#put(cursor, `${cursor.sent} ${token}\n`);
    }
  }

  /** Frames written from here to the next #endBatch go as one message (or more: a mark ends one), if the subscriber takes batches. */
  #startBatch(cursor: Cursor<State>): void {
    if (cursor.batch) cursor.pending ??= [];
  }

  #endBatch(cursor: Cursor<State>): void {
    this.#flush(cursor);
    cursor.pending = null;
  }

  #flush(cursor: Cursor<State>): void {
    const frames = cursor.pending;
    if (frames === null || frames.length === 0) return;
    cursor.pending = [];
    this.#put(cursor, frames.length === 1 ? frames[0]! : cursor.format === "json" ? frames.join("\n") : bridgeBatch(frames));
  }

  #finish(cursor: Cursor<State>): void {
    this.#endBatch(cursor);
    if (cursor.sink instanceof DirectStream) this.#end(cursor.sink);
    else safeClose(cursor.sink, CLOSE.normal, "the end");
    this.closed(cursor.sink);
  }

  /** The attachment is written when a subscriber changes between live and paging, never per entry. */
  #remember(cursor: Cursor<State>): void {
    if (cursor.sink instanceof DirectStream) return; // never outlives the object's stay in memory
    const attachment: Attachment = { format: cursor.format, client: cursor.client, sent: cursor.paused ? cursor.sent : "live", ...(cursor.batch ? { batch: true } : {}) };
    cursor.sink.serializeAttachment(attachment);
  }

  #entryFrame(cursor: Cursor<State>, entry: E): string | Uint8Array {
    return this.#wire(cursor, entry.seq, this.frames.entry(cursor.format, entry, cursor.state));
  }

  /** Bridged formats carry their seq in front; a direct stream takes bytes. */
  #wire(cursor: Cursor<State>, seq: number, text: string): string | Uint8Array {
    if (cursor.sink instanceof DirectStream) return encoder.encode(text);
    return cursor.format === "json" ? text : `${seq}\n${text}`;
  }

  /** `size`: the frame's bytes, if known (a shared frame's are counted once). */
  #send(cursor: Cursor<State>, seq: number, frame: string | Uint8Array, size?: number): void {
    cursor.sent = Math.max(cursor.sent, seq);
    this.#write(cursor, frame);
    if (cursor.sink instanceof DirectStream) return;
    size ??= wireSize(frame);
    cursor.position += size;
    cursor.sinceMark += size;
    if (cursor.sinceMark >= ACK_EVERY) this.#mark(cursor);
  }

  /** Sends a frame, or adds it to the batch being made. */
  #write(cursor: Cursor<State>, frame: string | Uint8Array): void {
    if (cursor.pending !== null && typeof frame === "string") cursor.pending.push(frame);
    else this.#put(cursor, frame);
  }

  #put(cursor: Cursor<State>, frame: string | Uint8Array): void {
    const sink = cursor.sink;
    try {
      if (sink instanceof DirectStream) {
        const bytes = typeof frame === "string" ? encoder.encode(frame) : frame;
        if (sink.held) hold(sink.held, sink.unreadBytes, cursor.sent, bytes.byteLength);
        sink.controller.enqueue(bytes);
        sink.lastWrite = Date.now();
      } else sink.send(frame);
    } catch {
      // Closed under us: webSocketClose (a stream's cancel) removes the cursor.
    }
  }

  /**
   * The stream ends once its viewer has read what it holds. A viewer that does not read
   * it within HEARTBEAT_MS is cut off (it resumes by its Last-Event-ID, like any other):
   * an ended stream must not keep the object awake for a viewer that stopped reading.
   */
  #end(stream: DirectStream): void {
    stream.wake();
    this.#ending.set(stream, Date.now());
    this.#closeIfRead(stream);
    if (this.#ending.has(stream)) this.#tendStreams();
  }

  /** Closes an ending stream once it is empty: the runtime ignores `error()` after `close()`, so closing sooner would forbid the cut. */
  #closeIfRead(stream: DirectStream): void {
    if (stream.controller.desiredSize !== CREDIT) return;
    this.#ending.delete(stream);
    this.#stopTendingIfIdle();
    try {
      stream.controller.close();
    } catch {
      // The viewer left first.
    }
  }

  /** While direct streams are open or ending: a heartbeat to each quiet for HEARTBEAT_MS, the cut for ending ones not read. */
  #tendStreams(): void {
    this.#streamTimer ??= setTimeout(() => {
      this.#streamTimer = null;
      const now = Date.now();
      for (const cursor of this.#cursors.values()) {
        if (!(cursor.sink instanceof DirectStream)) continue;
        const heartbeat = this.frames.heartbeat(cursor.format);
        if (heartbeat !== null && now - cursor.sink.lastWrite >= heartbeat.afterMs && room(cursor) > 0) this.#write(cursor, heartbeat.text(now));
      }
      for (const [stream, endedAt] of this.#ending) if (now - endedAt >= HEARTBEAT_MS) this.#cut(stream);
      if (this.#streams > 0 || this.#ending.size > 0) this.#tendStreams();
    }, HEARTBEAT_MS / 3);
  }

  /** No direct stream is left to tend: the timer goes, so it keeps the object neither from eviction nor from hibernating. */
  #stopTendingIfIdle(): void {
    if (this.#streams > 0 || this.#ending.size > 0 || this.#streamTimer === null) return;
    clearTimeout(this.#streamTimer);
    this.#streamTimer = null;
  }

  /** Drops what an ending stream holds: its viewer, if continued, goes on from the last frame it read. */
  #cut(stream: DirectStream): void {
    this.#ending.delete(stream);
    if (stream.held) stream.cutAt = lastRead(stream.held, stream.unreadBytes);
    try {
      stream.controller.error(new Error("The viewer did not read the end of its stream"));
    } catch {
      // It went away meanwhile.
    }
  }

  /** Viewers came or went: tell the caught-up subscribers, at most once a second. */
  #presenceChanged(): void {
    if (this.#presenceTimer !== null) return;
    // A lone subscriber has the count (its snapshot told it), and with none left nobody is
    // to be told: no timer, which would wake the object a second later for nothing (a job
    // watched by one viewer, or the last viewer gone).
    const cursors = this.#cursors; // woken from hibernation, rebuilt first: the count is of every connected viewer
    if (cursors.size <= 1 && [...cursors.values()].every((cursor) => cursor.viewers === cursors.size)) return;
    this.#presenceTimer = setTimeout(() => {
      this.#presenceTimer = null;
      const viewers = this.#cursors.size;
      // Each subscriber hears of a count it has not seen (its snapshot told it one). Like
      // entries, presence counts against its credit: one that stopped reading stops getting it.
      for (const cursor of this.#cursors.values()) {
        const text = cursor.viewers === viewers ? null : this.frames.presence(cursor.format, viewers);
        if (text === null || cursor.paused || room(cursor) <= 0) continue;
        cursor.viewers = viewers;
        this.#send(cursor, cursor.sent, this.#wire(cursor, cursor.sent, text));
      }
    }, PRESENCE_INTERVAL_MS);
  }
}

/** A frame made once for the subscribers that share it, its bytes, and the state a subscriber is in after it. */
interface Made<State> {
  wire: string | Uint8Array;
  size: number;
  after: State;
}

/** A handed-off stream the Worker may continue. */
interface HandedOff<State> {
  stream: DirectStream;
  /** The last seq written to it. */
  sent: number;
  client: string;
  format: Format;
  state: State;
  at: number;
}

/** How long a hand-off waits for the Worker to ask for the rest (it asks at once, once it has passed on what the stream held). */
const HAND_OFF_KEPT_MS = 2 * HEARTBEAT_MS;

function unconfirmed(cursor: Cursor<unknown>): number {
  return cursor.position - cursor.confirmed;
}

/** What may still be sent now: a WebSocket's credit left, a stream's room below its high-water mark. */
function room(cursor: Cursor<unknown>): number {
  return cursor.sink instanceof DirectStream ? (cursor.sink.controller.desiredSize ?? 0) : CREDIT - unconfirmed(cursor);
}

const encoder = new TextEncoder();

const NOT_ASCII = /[^\0-\x7f]/;

/**
 * A frame's bytes on the wire: a text frame's as UTF-8 (the runtime encodes it so). Most
 * frames are ASCII, which the regex engine tells without encoding them; the rest are
 * encoded. (A loop over each character here, called for every frame, was deoptimized
 * again and again by V8 to enter it mid-loop: "prepare for on stack replacement", 3–7
 * optimizations and deoptimizations a job in some `bench:wakeups` runs.)
 */
export function wireSize(frame: string | Uint8Array): number {
  if (typeof frame !== "string") return frame.byteLength;
  return NOT_ASCII.test(frame) ? encoder.encode(frame).byteLength : frame.length;
}

/** Bridge frames ("12\n<wire>") as one: the last one's seq, then each one's wire text. */
function bridgeBatch(frames: string[]): string {
  const last = frames.at(-1)!;
  return last.slice(0, last.indexOf("\n") + 1) + frames.map((frame) => frame.slice(frame.indexOf("\n") + 1)).join("");
}

/** 48 random bits: a client cannot answer a mark it has not read. */
function markToken(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(6)));
}

/**
 * `{"type":"ack","token":"…"}` → the token; anything else → null. Any token is taken
 * (the frame is at most MAX_CLIENT_FRAME_CHARS): one that quotes no open mark confirms nothing.
 */
export function parseAck(message: string): string | null {
  try {
    const frame = JSON.parse(message) as { type?: unknown; token?: unknown } | null;
    return frame?.type === "ack" && typeof frame.token === "string" ? frame.token : null;
  } catch {
    return null;
  }
}

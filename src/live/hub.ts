// Many streams on one connection: a client's WebSocket (or one SSE response) carries the
// streams of several jobs, or of an owner feed's shards. The Worker holds one WebSocket
// to each source object and passes every frame on, tagged with its source. Flow control
// stays per source: the object sends each at most its credit ahead of the acks, so what
// the connection holds is bounded by its subscribes × CREDIT (an unsubscribe does not take
// back what was sent): MAX_SUBSCRIBES, or a feed's shards if they are more (hubLimits).
//
// Platform limits shape the bounds: a Worker invocation may have 6 connections waiting
// for response headers at once (an upgrade only waits until it is accepted, so held
// sockets do not count), and a limited number of subrequests in its lifetime (50 on the
// Free plan), so one connection subscribes at most MAX_SUBSCRIBES times in all. An owner
// feed's connection follows every shard of the owner's index (INDEX_SHARDS, up to 64),
// however many: its sources are fixed, one subscribe each.
//
// Openers ask the objects for batches (fanout.ts: the frames one call sends, a page of
// history or a burst, as one message, a frame a line, a mark only ever last), whatever the
// client asked: the Worker then handles a message per batch, not per frame, and passes a
// batch on as it came, to a client that asked for `?batch` as one message, to any other a
// frame a message. It keeps no batch of its own: a message is at most what the object
// sends at once (under ACK_EVERY bytes, one frame more and a mark, before the tags).
import { CLOSE } from "../lib/fanout";
import { safeClose } from "../lib/websocket";
import { Subscription } from "./bridge";

/** Sources one connection carries at once. */
export const MAX_SOURCES = 20;
/** Subscribe requests over a connection's lifetime; each is a subrequest. */
export const MAX_SUBSCRIBES = 40;
/** How a mark frame begins, as fanout.ts writes it. */
const MARK = '{"type":"mark"';
/** A source's marks kept for their answers: an object has CREDIT / ACK_EVERY (4) and one more open at most. */
const MAX_OPEN_MARKS = 16;

/** Opens a source's WebSocket at `since`, or returns its refusal. */
export type Opener = (source: string, since: number) => Promise<WebSocket | Response>;

/** A source's answer to a subscribe that says it is gone for good: no such job, or deleted or expired. */
export function isGoneAnswer(status: number): boolean {
  return status === 404 || status === 410;
}

export interface HubSink {
  /** One of the source's own frames (JSON text, as the object sent it): the live case. */
  frame(source: string, frame: string): void;
  /** The source's frames that came together (a page of history, a burst), a frame a line. */
  batch(source: string, frames: string): void;
  /**
   * The source's stream ended. "ended": the object ended it (the job's last event was sent,
   * or the job was deleted); "lost": the object went away without ending it (it restarted,
   * as in a deploy), so the source has more to send; "unsubscribed": the client's doing.
   */
  end(source: string, cause: "ended" | "lost" | "unsubscribed"): void;
  /** The source could not be subscribed. */
  error(source: string, code: string, message: string): void;
}

/** Holds a source's place while its socket opens: one per subscribe, so a later subscribe's is never taken for it. */
type Opening = { readonly opening: true };

/** How many sources a connection follows at once, and subscribes in its lifetime. */
export interface HubLimits {
  sources: number;
  subscribes: number;
}

/** A connection's limits: the defaults, or its fixed sources (a feed's shards) if they are more. */
export function hubLimits(fixedSources: number): HubLimits {
  return { sources: Math.max(MAX_SOURCES, fixedSources), subscribes: Math.max(MAX_SUBSCRIBES, fixedSources) };
}

export class Hub {
  /** A source counts from its subscribe on: its Opening holds its place while its socket opens. */
  readonly #sources = new Map<string, Subscription<string> | Opening>();
  /**
   * Each source's marks not yet answered, oldest first. Only an ack of one of them goes on
   * to the source's object: anything else a client sends as an ack would wake that object
   * (a billed message) for nothing, as often as the client liked.
   */
  readonly #marks = new Map<string, string[]>();
  #subscribes = 0;

  constructor(private readonly open: Opener, private readonly sink: HubSink, private readonly limits: HubLimits = hubLimits(0)) {}

  /** Sources followed now, those still opening included. */
  get size(): number {
    return this.#sources.size;
  }

  /**
   * "ended": the source had nothing more (a finished job a reconnect already saw to its
   * end); "gone": there is no such source (any more); "refused": it may be there, but not for this.
   */
  async subscribe(source: string, since: number): Promise<"subscribed" | "ended" | "gone" | "refused"> {
    const refuse = (code: string, message: string) => (this.sink.error(source, code, message), "refused" as const);
    if (this.#sources.has(source)) return refuse("already_subscribed", "This connection already follows that source");
    if (this.#sources.size >= this.limits.sources) return refuse("too_many_sources", `One connection follows at most ${this.limits.sources} sources at once`);
    if (++this.#subscribes > this.limits.subscribes) return refuse("too_many_subscribes", `One connection subscribes at most ${this.limits.subscribes} times; open a new one`);
    const opening: Opening = { opening: true }; // told apart by identity
    this.#sources.set(source, opening);
    const opened = await this.open(source, since).catch(() => null);
    // Unsubscribed or closed while opening (and maybe subscribed again since, from another
    // `since`, which its own socket serves): let this socket go.
    if (this.#sources.get(source) !== opening) {
      if (opened instanceof WebSocket) {
        opened.accept(); // a socket from an upgrade can be closed only once accepted
        safeClose(opened, CLOSE.normal, "unsubscribed");
      }
      return "refused";
    }
    if (opened === null) {
      // Its object could not be reached (restarting, overloaded): said of this source alone,
      // for the client to subscribe again later. Ending the whole connection instead made
      // its every other source flap with each reconnect, and piled more load on the object.
      this.#sources.delete(source);
      this.#marks.delete(source);
      return refuse("unavailable", "The source could not be reached just now; subscribe again in a moment");
    }
    if (opened instanceof Response) {
      this.#sources.delete(source);
      this.#marks.delete(source);
      if (opened.status === 204) {
        this.sink.end(source, "ended");
        return "ended";
      }
      if (isGoneAnswer(opened.status)) {
        this.sink.error(source, "gone", "No such job, or it was deleted or expired");
        return "gone";
      }
      const body = (await opened.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
      return refuse(body?.error?.code ?? "refused", body?.error?.message ?? "Refused");
    }
    const subscription = new Subscription(opened, (data) => (typeof data === "string" && data.startsWith("{") ? data : null));
    this.#sources.set(source, subscription);
    subscription.onFrame((frames) => {
      if (frames !== "closed") {
        // A lone frame, the live case, passes as it did before batches: one search for a
        // newline more. A mark ends its batch: only the last line can be one.
        if (!frames.includes("\n")) {
          if (frames.startsWith(MARK)) this.#marked(source, frames);
          return this.sink.frame(source, frames);
        }
        const last = frames.lastIndexOf("\n") + 1;
        if (frames.startsWith(MARK, last)) this.#marked(source, frames.slice(last));
        return this.sink.batch(source, frames);
      }
      if (this.#sources.get(source) === subscription) {
        this.#sources.delete(source);
        this.#marks.delete(source);
        // An object closes a stream it ended with 1000; the runtime closes it otherwise.
        this.sink.end(source, subscription.closeCode === CLOSE.normal ? "ended" : "lost");
      }
    });
    return "subscribed";
  }

  unsubscribe(source: string): void {
    const subscription = this.#sources.get(source);
    if (!subscription) return;
    this.#sources.delete(source);
    this.#marks.delete(source);
    if (subscription instanceof Subscription) subscription.close(CLOSE.normal, "unsubscribed");
    this.sink.end(source, "unsubscribed");
  }

  /** Answers a source's mark (its token), if it is one the source sent and nobody answered; an answer covers the marks before it. */
  ack(source: string, token: string): void {
    const subscription = this.#sources.get(source);
    const marks = this.#marks.get(source);
    const at = marks?.indexOf(token) ?? -1;
    if (!(subscription instanceof Subscription) || at < 0) return;
    marks!.splice(0, at + 1);
    subscription.ack(token);
  }

  #marked(source: string, frame: string): void {
    const { token } = JSON.parse(frame) as { token?: unknown };
    if (typeof token !== "string") return;
    const marks = this.#marks.get(source) ?? [];
    // An object sends one every ACK_EVERY bytes and stops at CREDIT unanswered, so few are
    // open at once; the bound is for one that would not stop.
    if (marks.push(token) > MAX_OPEN_MARKS) marks.shift();
    this.#marks.set(source, marks);
  }

  close(): void {
    for (const subscription of this.#sources.values()) if (subscription instanceof Subscription) subscription.close(CLOSE.normal, "connection closed");
    this.#sources.clear();
    this.#marks.clear();
  }
}

/** A source's frame tagged with it, without parsing the frame: `{"source":"…",` + the rest. */
export function tagged(source: string, frame: string): string {
  return `{"source":${JSON.stringify(source)},${frame.slice(1)}`;
}

/** Each frame of a batch (a frame a line) tagged: every line is a JSON object, and JSON has no raw newline, so each "\n{" starts one. */
export function taggedLines(source: string, frames: string): string {
  const tag = `{"source":${JSON.stringify(source)},`;
  return tag + frames.slice(1).split("\n{").join(`\n${tag}`);
}

/** SSE resume positions: the last seq of each source, in the order the sources were asked for ("12.0.40"). */
export function encodePositions(sources: readonly string[], positions: ReadonlyMap<string, number>): string {
  return sources.map((source) => positions.get(source) ?? 0).join(".");
}

/**
 * `isFeed`: the sources are an owner index's shards, and a position taken before a deploy
 * raised INDEX_SHARDS names fewer of them: the new ones, empty until then, are followed
 * from their start (refused, it ended every open feed for good: a 400 stops a client).
 */
export function decodePositions(sources: readonly string[], text: string | undefined, isFeed: boolean): Map<string, number> | null {
  if (text === undefined || text === "") return new Map(sources.map((source) => [source, 0]));
  const parts = text.split(".");
  const fits = parts.length === sources.length || (isFeed && parts.length < sources.length);
  if (!fits || !parts.every((part) => /^\d{1,15}$/.test(part))) return null;
  return new Map(sources.map((source, i) => [source, Number(parts[i] ?? 0)]));
}

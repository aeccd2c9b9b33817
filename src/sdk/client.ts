// The typed client, for browsers and Node ≥ 20: create, read, list, cancel and delete
// jobs, and follow a job (or the owner feed) as an async iterator that resumes by itself
// after a drop, with backoff and jitter, exactly after the last event it gave you.
//
//   import { createClient } from "live-jobs/client";
//   import type { JobTypesOf } from "live-jobs/define";   // not "live-jobs": that one needs the Workers types
//   const jobs = createClient<JobTypesOf<typeof JOB_TYPES>>({ baseUrl, token });
//   const job = await jobs.create("primes", { n: 1_000_000 });   // input checked by type
//   for await (const event of jobs.follow(job.id)) console.log(event.type, event.data);
//   const { primes } = await jobs.result(job);                     // result typed too
//
// Following uses a WebSocket where there is one (browsers, Node ≥ 22, or `WebSocket` in
// the options), acknowledging as it reads; elsewhere SSE over fetch. Watching needs no
// credentials (a job's id is its capability); the feed and control do.
import type {
  ApiError as ApiErrorBody, ClientFrame, CreatedJob, EventPage, FeedEntry, JobEvent, JobList, JobSnapshot, JobState, JobTypeInfo, Json, MuxServerFrame, ServerFrame, StepPage,
} from "../protocol";
import { isGoneReason, isTerminalEvent, seenToEnd } from "../lib/job-state";
import { Channel } from "./channel";
import { readSse } from "./sse-reader";

/**
 * How the client tells a dead connection from a quiet one. Every SSE stream of the server
 * sends a `: heartbeat` after 15 s of silence: one silent for three of those is dead. A
 * WebSocket sends nothing while a job is quiet, so the client asks (`ping`, answered
 * `pong` by the runtime without waking the job's object) after a quiet while, and a
 * socket that does not answer soon is dead. Either way the client reconnects after the
 * last event it gave, as after any drop.
 */
const SSE_SILENT_MS = 45_000;
const PING_AFTER_MS = 20_000;
const PONG_WITHIN_MS = 10_000;
/**
 * A connection not live this long after it was asked for (no WebSocket `open`, no SSE
 * response headers) is dropped and tried again: one accepted but never answered (a server
 * that hangs, a network that went during the handshake) otherwise held a follow at
 * "connecting" for minutes (fetch's own limit, 300 s in Node) or for good (a WebSocket).
 */
const CONNECT_WITHIN_MS = 15_000;
/**
 * A connection that stayed live this long was a success: the next drop backs off from the
 * start again. One that ended sooner counts as a failed attempt, or a proxy that cuts every
 * connection at once (or a server closing each socket as it opens) had the client back
 * twice a second for good.
 */
const STAYED_LIVE_MS = 10_000;

/** Each job type's input and result, by type name (`JobTypesOf<typeof yourTypes>`). */
export type JobTypeMap = Record<string, { input: unknown; result: unknown }>;

type WebSocketClass = new (url: string) => WebSocket;

export interface ClientOptions {
  /** The deployment's origin; in a browser, the page's own by default. */
  baseUrl?: string;
  /** An owner token or a JWT; none for anonymous visitors. */
  token?: string;
  fetch?: typeof fetch;
  /** A WebSocket class where the runtime has none (e.g. `ws` on Node 20); null never uses WebSockets. */
  WebSocket?: WebSocketClass | null;
  /** Waits between reconnects: full jitter up to initialMs × 2^failures, at most maxMs. */
  backoff?: { initialMs?: number; maxMs?: number };
}

export type LiveStatus = "connecting" | "live" | "reconnecting";

/** How a connection hands a follow its events, and learns that the caller has taken them. */
interface Reader {
  deliver(event: JobEvent): void;
  taken(): Promise<void>;
}

export interface FollowOptions {
  /** Start after this event (0: the whole history); a non-negative integer, or follow throws a RangeError. */
  since?: number;
  signal?: AbortSignal;
  onSnapshot?(snapshot: JobSnapshot): void;
  onPresence?(viewers: number): void;
  onStatus?(status: LiveStatus): void;
}

export interface CreateOptions {
  timeoutMs?: number;
  tags?: string[];
  webhook?: { url: string };
  idempotencyKey?: string;
}

/** A create's input and options: the input may be left out when the type's input has no required field. */
export type CreateArgs<Input> = {} extends Input ? [input?: Input, extra?: CreateOptions] : [input: Input, extra?: CreateOptions];

export interface ListFilter {
  state?: JobState;
  type?: string;
  tag?: string;
  limit?: number;
  cursor?: string;
}

/**
 * A refusal from the API, with its status and code; `retryAfterMs` when the answer says
 * when to try again (429: a rate limit or a full job; 503: an object restarting).
 */
export class ApiRequestError extends Error {
  override name = "ApiRequestError";
  constructor(readonly status: number, readonly code: string, message: string, readonly issues?: { path: string; message: string }[], readonly retryAfterMs?: number) {
    super(message);
  }
}

/** The job ended without a result: failed or canceled. */
export class JobFailedError extends Error {
  override name = "JobFailedError";
  constructor(readonly error: Extract<JobEvent, { type: "error" }>["data"]) {
    super(error.message);
  }
}

/**
 * The longest a refusal's Retry-After holds a live view back. A proxy's hour would leave the
 * view frozen for it, and past 2^31 ms a timer fires at once: the client came back at once,
 * again and again. This server asks for 10 s at most.
 */
const MAX_RETRY_AFTER_MS = 60_000;

/** A Retry-After header, seconds or an HTTP-date, as ms from `now`; undefined when absent or unreadable. */
function parseRetryAfter(header: string | null, now: number): number | undefined {
  const text = header?.trim() ?? "";
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  // Only a date (Date.parse also reads "10" or "-5" as years).
  const at = /GMT$/.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function createClient<Types extends JobTypeMap = JobTypeMap>(options: ClientOptions = {}): Client<Types> {
  return new Client<Types>(options);
}

export class Client<Types extends JobTypeMap = JobTypeMap> {
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #WebSocket: WebSocketClass | null;

  constructor(private readonly options: ClientOptions = {}) {
    this.#base = (options.baseUrl ?? (globalThis as { location?: { origin: string } }).location?.origin ?? "").replace(/\/$/, "");
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#WebSocket = options.WebSocket === undefined ? ((globalThis as { WebSocket?: WebSocketClass }).WebSocket ?? null) : options.WebSocket;
  }

  /**
   * The created job, with its `type`, so that `result(job)` knows the type of its result,
   * and `created`: false when an `idempotencyKey` found the job it made before (the
   * API's 200, where a new job is a 201; that answer has no `controlToken`).
   */
  async create<K extends keyof Types & string>(type: K, ...[input, extra = {}]: CreateArgs<Types[K]["input"]>): Promise<CreatedJob & { type: K; created: boolean }> {
    const { idempotencyKey, ...rest } = extra;
    const response = await this.#request("POST", "/jobs", { type, input: input as Json, ...rest }, { Accept: "application/json", ...(idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {}) });
    const job = (await response.json()) as CreatedJob;
    return { ...job, type, created: response.status === 201 };
  }

  /**
   * Runs a job of the owner's again: a new job of the same type, input, tags and timeout
   * (POST /jobs/:id/rerun), with its own `controlToken`.
   */
  async rerun<K extends keyof Types & string>(job: { id: string; type: K } | string): Promise<CreatedJob & { type?: K }> {
    const id = typeof job === "string" ? job : job.id;
    const created = await this.#json<CreatedJob>("POST", `/jobs/${encodeURIComponent(id)}/rerun`);
    return typeof job === "string" ? created : { ...created, type: job.type };
  }

  /** The job types this client may create, with each one's input schema and an example (GET /job-types). */
  async jobTypes(): Promise<JobTypeInfo[]> {
    return (await this.#json<{ types: JobTypeInfo[] }>("GET", "/job-types")).types;
  }

  get(id: string): Promise<JobSnapshot> {
    return this.#json("GET", `/jobs/${encodeURIComponent(id)}`);
  }

  events(id: string, since = 0, limit = 1000): Promise<EventPage> {
    return this.#json("GET", `/jobs/${encodeURIComponent(id)}/events?since=${since}&limit=${limit}`);
  }

  steps(id: string, after = -1, limit = 500): Promise<StepPage> {
    return this.#json("GET", `/jobs/${encodeURIComponent(id)}/steps?after=${after}&limit=${limit}`);
  }

  list(filter: ListFilter = {}): Promise<JobList> {
    const query = new URLSearchParams(Object.entries(filter).flatMap(([key, value]): [string, string][] => (value === undefined ? [] : [[key, String(value)]])));
    return this.#json("GET", `/jobs${query.size ? `?${query}` : ""}`);
  }

  /** As the owner (the client's token), or with the job's control token. */
  cancel(id: string, controlToken?: string): Promise<JobSnapshot> {
    return this.#json("POST", `/jobs/${encodeURIComponent(id)}/cancel`, undefined, controlToken ? { "Control-Token": controlToken } : {});
  }

  async delete(id: string, controlToken?: string): Promise<void> {
    await this.#json("DELETE", `/jobs/${encodeURIComponent(id)}`, undefined, controlToken ? { "Control-Token": controlToken } : {});
  }

  /** The job's events after `since`, live, ending with its terminal event; resumes by itself after drops. */
  follow(id: string, options: FollowOptions = {}): AsyncIterableIterator<JobEvent> {
    const { since = 0 } = options;
    // The server refuses any other (400): over a WebSocket the client sees only a failed
    // handshake, and tried again for good; over SSE, -1 and NaN read as 0.
    if (!Number.isSafeInteger(since) || since < 0) throw new RangeError(`since must be a non-negative integer (an event's seq), not ${since}`);
    const channel = new Channel<JobEvent>();
    let lastSeq = since;
    let ended = false;
    const deliver = (event: JobEvent) => {
      if (event.seq <= lastSeq || ended) return;
      lastSeq = event.seq;
      channel.push(event);
      if (isTerminalEvent(event)) ended = true;
    };
    void this.#keepUp(channel, options, () => ended, async (onLive, signal) => {
      const read = { deliver, taken: () => channel.taken() };
      const outcome = this.#WebSocket
        ? await this.#followSocket(id, lastSeq, read, options, onLive, signal)
        : await this.#followSse(id, lastSeq, read, options, onLive, signal);
      // A socket that failed before it opened may have met a job that is gone (unless it was
      // dropped unanswered: then the next attempt asks).
      if (outcome === "refused" && !signal.aborted) await this.#json("GET", `/jobs/${encodeURIComponent(id)}`, undefined, {}, signal);
      if (outcome === "seen") ended = true;
    });
    return channel;
  }

  /** Follows the job to its end: its result, or a JobFailedError. */
  async result<K extends keyof Types & string>(job: { id: string; type?: K } | string): Promise<Types[K]["result"]> {
    for await (const event of this.follow(typeof job === "string" ? job : job.id)) {
      if (event.type === "result") return event.data.result as Types[K]["result"];
      if (event.type === "error") throw new JobFailedError(event.data);
    }
    throw new Error("The job's stream ended without its result");
  }

  /**
   * The owner feed, live, from `since` (a list's `feed`, or "" for everything): every
   * change to the owner's jobs. Needs the client's token (or a browser's session cookie).
   */
  feed(options: { since?: string; signal?: AbortSignal; onStatus?(status: LiveStatus): void; onCounts?(counts: Record<JobState, number>): void } = {}): AsyncIterableIterator<FeedEntry> {
    const channel = new Channel<FeedEntry>();
    const positions = new Map<string, number>((options.since ?? "").split(".").filter(Boolean).map((seq, shard) => [`feed-${shard}`, Number(seq)]));
    // Where to resume: the server reads one seq per shard, in shard order, and each event's
    // `id:` is exactly that, for every shard (one it could not subscribe too, which sends no
    // snapshot or entry here). Until the first event, where this feed started.
    let since = options.since ?? "";
    // Each shard of the owner's index counts its own jobs: the owner's counts are their sum.
    const countsBySource = new Map<string, Record<JobState, number>>();
    const counted = (source: string, counts: Record<JobState, number>) => {
      countsBySource.set(source, counts);
      const sum = { ...counts };
      for (const state of Object.keys(sum) as JobState[]) sum[state] = [...countsBySource.values()].reduce((total, c) => total + c[state], 0);
      options.onCounts?.(sum);
    };
    void this.#keepUp(channel, options, () => false, async (onLive, signal) => {
      const response = await this.#request("GET", `/feed/sse?since=${encodeURIComponent(since)}`, undefined, { Accept: "text/event-stream" }, signal);
      onLive();
      for await (const message of readSse(response.body!, SSE_SILENT_MS)) {
        const frame = JSON.parse(message.data) as MuxServerFrame;
        if (frame.type === "snapshot" && "counts" in frame.snapshot) counted(frame.source, frame.snapshot.counts);
        if (frame.type === "event" && "event" in frame && "counts" in frame.event) {
          const entry = frame.event as FeedEntry;
          if (entry.seq > (positions.get(frame.source) ?? 0)) {
            positions.set(frame.source, entry.seq);
            counted(frame.source, entry.counts);
            channel.push(entry);
          }
        }
        if (message.id !== undefined) since = message.id;
      }
    });
    return channel;
  }

  /**
   * Runs `connect` again after every drop, with backoff and jitter, until done, aborted,
   * refused or no longer read (the caller left its `for await`). Each connection's signal
   * aborts it then, and when a browser says it went offline: a connection then is dead,
   * whatever its socket still believes.
   */
  async #keepUp<T>(channel: Channel<T>, options: { signal?: AbortSignal; onStatus?(status: LiveStatus): void }, done: () => boolean, connect: (onLive: () => void, signal: AbortSignal) => Promise<void>): Promise<void> {
    let failures = 0;
    const { initialMs = 500, maxMs = 15_000 } = this.options.backoff ?? {};
    const browser = (globalThis as { window?: EventTarget }).window;
    // Not AbortSignal.any: Node 20.0–20.2 and Safari before 17.4 lack it.
    const stop = new AbortController();
    const stopNow = () => stop.abort();
    if (options.signal?.aborted) stopNow();
    options.signal?.addEventListener("abort", stopNow);
    channel.returned.addEventListener("abort", stopNow);
    const stopped = stop.signal;
    if (!done() && !stopped.aborted) options.onStatus?.("connecting");
    while (!done() && !stopped.aborted) {
      const connection = new AbortController();
      const drop = () => connection.abort();
      let retryAfterMs = 0;
      browser?.addEventListener("offline", drop);
      stopped.addEventListener("abort", drop);
      const unanswered = setTimeout(drop, CONNECT_WITHIN_MS);
      let liveAt: number | null = null;
      try {
        await connect(() => {
          clearTimeout(unanswered);
          liveAt = Date.now();
          options.onStatus?.("live");
        }, connection.signal);
      } catch (error) {
        // A refusal will not change by trying again (a 429 or a 5xx may).
        if (error instanceof ApiRequestError && error.status < 500 && error.status !== 429) {
          channel.close(error);
          break;
        }
        if (error instanceof ApiRequestError) retryAfterMs = Math.min(error.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS);
      } finally {
        clearTimeout(unanswered);
        browser?.removeEventListener("offline", drop);
        stopped.removeEventListener("abort", drop);
      }
      if (done() || stopped.aborted) break;
      // Said at the drop, not when the next try starts: the wait may last up to maxMs, and
      // a page that still said "Live" through it showed a dead connection as a live one.
      options.onStatus?.("reconnecting");
      if (liveAt !== null && Date.now() - liveAt >= STAYED_LIVE_MS) failures = 0;
      // No sooner than the server asked (a full job frees a slot only when a viewer leaves).
      const wait = Math.max(retryAfterMs, Math.random() * Math.min(maxMs, initialMs * 2 ** failures++));
      // A browser back online tries at once; the caller's abort ends the wait at once too.
      await new Promise<void>((resolve) => {
        const retry = () => {
          clearTimeout(timer);
          browser?.removeEventListener("online", retry);
          stopped.removeEventListener("abort", retry);
          resolve();
        };
        const timer = setTimeout(retry, wait);
        browser?.addEventListener("online", retry);
        stopped.addEventListener("abort", retry);
      });
    }
    options.signal?.removeEventListener("abort", stopNow);
    channel.close();
  }

  /**
   * One WebSocket: resolves when it closes, or when it stops answering or is aborted (then
   * it is closed without waiting for its closing handshake, which a dead connection never
   * completes); "refused" if it never opened, or was closed because its job is gone (then
   * the caller learns so at once rather than after a reconnect's wait); "seen" if its
   * snapshot says the job ended at or before `since` (as SSE's 204 does: nothing will come).
   */
  #followSocket(id: string, since: number, { deliver, taken }: Reader, options: FollowOptions, onLive: () => void, signal: AbortSignal): Promise<"closed" | "refused" | "seen"> {
    const url = `${this.#base.replace(/^http/, "ws")}/jobs/${encodeURIComponent(id)}/ws?since=${since}&batch`;
    return new Promise((resolve) => {
      const socket = new this.#WebSocket!(url);
      let opened = false;
      let over = false;
      let heardAt = Date.now();
      let pingedAt: number | null = null;
      const done = (gone = false, seen = false) => {
        if (over) return;
        over = true;
        clearInterval(watch);
        signal.removeEventListener("abort", abort);
        resolve(seen ? "seen" : opened && !gone ? "closed" : "refused");
      };
      const abort = () => {
        socket.close(1000, "aborted");
        done();
      };
      const watch = setInterval(() => {
        if (!opened) return;
        if (pingedAt !== null && Date.now() - pingedAt >= PONG_WITHIN_MS) {
          socket.close(4000, "no answer to ping");
          done();
        } else if (pingedAt === null && Date.now() - heardAt >= PING_AFTER_MS) {
          socket.send("ping");
          pingedAt = Date.now();
        }
      }, PONG_WITHIN_MS / 2);
      signal.addEventListener("abort", abort);
      socket.addEventListener("open", () => {
        opened = true;
        heardAt = Date.now();
        onLive();
      });
      const handle = (frame: ServerFrame) => {
        if (frame.type === "snapshot") {
          options.onSnapshot?.(frame.snapshot);
          // A job that ended at or before `since` sends nothing more, and Node's close event
          // comes only some 10 s later (see below): without this, every reconnect met the
          // same snapshot and the follow never ended.
          if (seenToEnd(frame.snapshot, since)) {
            socket.close(1000);
            done(false, true);
          }
        } else if (frame.type === "presence") options.onPresence?.(frame.viewers);
        // Answered once the caller has taken everything before it: a caller that stops
        // reading then holds the server back (256 KiB ahead at most), where answering on
        // arrival queued the whole history here.
        else if (frame.type === "mark") {
          void taken().then(() => {
            if (!over) socket.send(JSON.stringify({ type: "ack", token: frame.token } satisfies ClientFrame));
          });
        }
        else {
          deliver(frame.event);
          // The job has ended: stop here rather than wait for the socket's close event,
          // which Node's WebSocket fires only when the TCP connection closes (workerd
          // closes it when it evicts the idle object, some 10 s later).
          if (isTerminalEvent(frame.event)) {
            socket.close(1000);
            done();
          }
        }
      };
      socket.addEventListener("message", (message) => {
        if (over) return;
        heardAt = Date.now();
        pingedAt = null;
        const text = String(message.data);
        if (text === "pong") return;
        // `?batch`: a message holds one frame a line (a server from before batches sends one a message).
        for (const line of text.split("\n")) if (!over) handle(JSON.parse(line) as ServerFrame);
      });
      socket.addEventListener("close", (event) => done(isGoneReason((event as CloseEvent).reason)));
    });
  }

  /** One SSE response over fetch: resolves when it ends; "seen" if the job ended before `since`'s reconnect. */
  async #followSse(id: string, since: number, { deliver, taken }: Reader, options: FollowOptions, onLive: () => void, signal: AbortSignal): Promise<"closed" | "seen"> {
    const headers: Record<string, string> = { Accept: "text/event-stream", ...(since > 0 ? { "Last-Event-ID": String(since) } : {}) };
    const response = await this.#request("GET", `/jobs/${encodeURIComponent(id)}/sse`, undefined, headers, signal);
    if (response.status === 204) return "seen";
    onLive();
    for await (const message of readSse(response.body!, SSE_SILENT_MS)) {
      if (message.event === "snapshot") options.onSnapshot?.(JSON.parse(message.data) as JobSnapshot);
      else if (message.event === "presence") options.onPresence?.((JSON.parse(message.data) as { viewers: number }).viewers);
      else if (message.id !== undefined) {
        deliver(JSON.parse(message.data) as JobEvent);
        // Read on once the caller has taken it: the response's own flow control then holds
        // the server back while the caller does not read.
        await taken();
      }
    }
    return "closed";
  }

  async #json<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<T> {
    const response = await this.#request(method, path, body, { Accept: "application/json", ...headers }, signal);
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  /** A request with the client's credentials; a refusal becomes an ApiRequestError. */
  async #request(method: string, path: string, body: unknown, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    const response = await this.#fetch(`${this.#base}${path}`, {
      method, signal,
      headers: { ...(this.options.token ? { Authorization: `Bearer ${this.options.token}` } : {}), ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (response.ok || response.status === 204) return response;
    const error = ((await response.json().catch(() => null)) as ApiErrorBody | null)?.error;
    throw new ApiRequestError(response.status, error?.code ?? "http_error", error?.message ?? `HTTP ${response.status}`, error?.issues, parseRetryAfter(response.headers.get("Retry-After"), Date.now()));
  }
}

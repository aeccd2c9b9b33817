// One Durable Object per owner (per shard of an owner, with INDEX_SHARDS > 1): the
// owner's job list, its counts by state, the cap on active jobs, and the live feed.
// Jobs report to it (see src/job/reporter.ts); the Worker admits new jobs through it and
// reads lists from it. One report is one row written here.
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import type { Env } from "../env";
import { Fanout, MAX_CLIENT_KEY, tooManySubscribers, type Frames } from "../lib/fanout";
import { sseMessage, ssePresence, sseSnapshot } from "../live/sse";
import type { FeedEntry, FeedFrame, FeedSnapshot, JobListing, JobState } from "../protocol";
import { IndexStore, type ListFilter } from "./index-store";
import type { Remote } from "../lib/remote";

/** "retired": the id was removed here (deleted or expired): no job is made at it again. */
export type AdmitOutcome = "admitted" | "existing" | "full" | "retired";

export type IndexRpc = Remote<Pick<OwnerIndex, "admit" | "report" | "remove" | "list" | "fetch" | "usage" | "endSession" | "sessionEnded">>;

/** Tombstones are purged as the index wakes, and once per this many writes while it stays awake. */
const PURGE_EVERY = 100;
const FEED_FORMATS = ["json", "sse"] as const;

const feedFrames: Frames<FeedSnapshot, FeedEntry, null> = {
  state: () => null,
  resumeState: () => null,
  snapshot: (format, snapshot) => (format === "json" ? JSON.stringify({ type: "snapshot", snapshot } satisfies FeedFrame) : sseSnapshot(snapshot)),
  entry: (format, entry) => (format === "json" ? JSON.stringify({ type: "event", event: entry } satisfies FeedFrame) : sseMessage(entry.type, JSON.stringify(entry), entry.seq)),
  shareKey: (format) => format,
  copyState: () => null,
  presence: (format, viewers) => (format === "json" ? JSON.stringify({ type: "presence", viewers } satisfies FeedFrame) : ssePresence(viewers)),
  heartbeat: () => null, // the feed is always bridged: the Worker beats
  continued: () => false,
};

export class OwnerIndex extends DurableObject<Env> {
  readonly #store: IndexStore;
  readonly #fanout: Fanout<FeedSnapshot, FeedEntry, null>;
  #writes = 0;
  #requests = 0;
  /** Entries stored during the feed's current window, sent together at its end (see #publish). */
  #held: FeedEntry[] = [];
  #window: ReturnType<typeof setTimeout> | null = null;
  /** When the feed last went out to its subscribers (epoch ms): a window runs BATCH_WINDOW from then. */
  #sentAt = -Infinity;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new IndexStore(ctx.storage);
    // On every wake too: an index hibernates between a few reports at a time, so a count of
    // writes alone (PURGE_EVERY) left most owners' tombstones for good.
    this.#purge();
    this.#fanout = new Fanout(ctx, {
      lastSeq: () => this.#store.lastFeed,
      entriesAfter: (since, limit) => this.#store.feedAfter(since, limit),
      ended: () => false,
      isLast: () => false,
    }, feedFrames);
  }

  /** A new job of this owner, unless it already has `maxActive` queued, running or waiting. */
  admit(listing: JobListing, maxActive: number): AdmitOutcome {
    this.#requests++;
    const state = this.#store.stateOf(listing.id);
    // A removed id comes back only by an Idempotency-Key used again after a delete (the
    // id derives from the key), which its object refuses; one that got here while its
    // job was being deleted is refused too.
    if (state === "removed") return "retired";
    if (state !== null) return "existing";
    if (this.#store.active >= maxActive) return "full";
    this.#publish(this.#store.add(listing, Date.now()));
    return "admitted";
  }

  /** A job's listing as of its event `seq`; an older report than the one stored changes nothing. */
  report(listing: JobListing, seq: number): void {
    this.#requests++;
    this.#publish(this.#store.save(listing, seq, Date.now()));
  }

  /** The job was deleted or expired. */
  remove(id: string): void {
    this.#requests++;
    this.#publish(this.#store.remove(id, Date.now()));
  }

  list(filter: ListFilter): { jobs: JobListing[]; counts: Record<JobState, number>; feed: number } {
    this.#requests++;
    return { jobs: this.#store.list(filter), counts: this.#store.counts(), feed: this.#store.lastFeed };
  }

  /** Sign-out: the dashboard session `id` (epoch seconds `expiresAt`) is refused from now on. Kept by the owner's first shard. */
  endSession(id: string, expiresAt: number): void {
    this.#requests++;
    this.#store.endSession(id, expiresAt * 1000, Date.now());
  }

  sessionEnded(id: string): boolean {
    this.#requests++;
    return this.#store.sessionEnded(id);
  }

  /** What this index has cost since it last woke: requests into it and rows it wrote. */
  usage(): { requests: number; rowsWritten: number } {
    return { requests: this.#requests, rowsWritten: this.#store.rowsWritten };
  }

  /** The feed: `?since=N&format=json|sse&client=<key>[&batch]`, from the Worker (`batch`: see fanout.ts). */
  override async fetch(request: Request): Promise<Response> {
    this.#requests++;
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ error: { code: "upgrade_required", message: "Expected a WebSocket upgrade" } }, { status: 426 });
    }
    const config = readConfig(this.env);
    const params = new URL(request.url).searchParams;
    const since = Math.max(0, Number(params.get("since")) || 0);
    const format = FEED_FORMATS.find((f) => f === params.get("format")) ?? "json";
    const client = (params.get("client") ?? "").slice(0, MAX_CLIENT_KEY) || "unknown";
    const refusal = this.#fanout.admit(client, { total: config.maxSubscribers, perClient: config.maxSubscribersPerClient });
    if (refusal) return tooManySubscribers("Too many live subscribers to this feed");
    return this.#fanout.subscribe({ counts: this.#store.counts(), lastSeq: this.#store.lastFeed }, since, format, client, format === "json" && params.has("batch"));
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.#fanout.message(socket, message);
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    this.#fanout.hungUp(socket, code, reason);
  }

  override async webSocketError(socket: WebSocket): Promise<void> {
    this.#fanout.closed(socket);
  }

  /**
   * Sends a stored entry to the feed's subscribers: at once if none was sent within the
   * last BATCH_WINDOW, else with the others of that window, at its end, in one message to
   * each (the Worker's bridges, the dashboard's, take batches). A quiet feed's change goes
   * out as it happens; a busy one's, many jobs reporting, goes a window at a time rather
   * than a message per change to every subscriber. The entries are stored already: a
   * subscriber that joins meanwhile reads them from storage, and the window's send skips it.
   * A timer is armed only for an entry that waits: a lone change, or one nobody follows,
   * arms none (each would fire a window later for nothing, an isolate entry per report).
   */
  #publish(entry: FeedEntry | null): void {
    if (!entry) return;
    if (this.#window !== null) this.#held.push(entry);
    else {
      const wait = this.#sentAt + readConfig(this.env).batchWindowMs - Date.now();
      // `count` only once a send this wake has woken the fan-out (#sentAt is set by it): woken
      // now, it would take this stored entry for one its subscribers have.
      if (wait > 0 && this.#fanout.count > 0) {
        this.#held.push(entry);
        this.#window = setTimeout(() => this.#sendHeld(), wait);
      } else this.#send([entry]);
    }
    if (++this.#writes % PURGE_EVERY === 0) this.#purge();
  }

  #sendHeld(): void {
    this.#window = null;
    const held = this.#held;
    this.#held = [];
    this.#send(held);
  }

  #send(entries: FeedEntry[]): void {
    this.#fanout.broadcast(entries);
    this.#sentAt = Date.now();
  }

  #purge(): void {
    this.#store.purge(Date.now() - readConfig(this.env).retentionMs);
  }
}

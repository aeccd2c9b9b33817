// All SQL of an owner's index: one row per job, keyed by its id (WITHOUT ROWID, so the
// table is its only b-tree), an index for newest-first lists and one for the feed.
// `seq` is the job's own last event seq when it reported: older reports are ignored.
// `feed` is this index's change counter, the feed's seq. A removed job stays as a
// tombstone (state "removed") until its retention has passed, so a feed resumed after
// the removal still hears of it. `ended_sessions`: dashboard sessions signed out before
// they expired (the owner's first shard keeps them; see src/http/session.ts).
import type { FeedEntry, JobListing, JobState } from "../protocol";
import { JOB_STATES } from "../lib/job-state";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  state TEXT NOT NULL,
  tags TEXT NOT NULL,
  percent INTEGER,
  message TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  seq INTEGER NOT NULL,
  feed INTEGER NOT NULL,
  changed_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS jobs_newest ON jobs (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_feed ON jobs (feed);
CREATE TABLE IF NOT EXISTS ended_sessions (
  id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;`;

type JobIndexRow = {
  id: string;
  type: string;
  state: JobState | "removed";
  tags: string;
  percent: number | null;
  message: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  seq: number;
  feed: number;
  changed_at: number;
};

export interface ListFilter {
  state?: JobState;
  type?: string;
  tag?: string;
  /** Newest first, strictly older than this (created_at, id). */
  before?: { createdAt: number; id: string };
  limit: number;
}

/** Jobs per list page when a request does not say. */
export const DEFAULT_LIST_LIMIT = 20;

export const EMPTY_COUNTS = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;

export class IndexStore {
  readonly #sql: SqlStorage;
  #lastFeed: number;
  #counts: Record<JobState, number>;
  rowsWritten = 0;

  constructor(storage: DurableObjectStorage) {
    this.#sql = storage.sql;
    this.#sql.exec(SCHEMA);
    this.#lastFeed = Number(this.#sql.exec("SELECT coalesce(max(feed), 0) AS n FROM jobs").one().n);
    this.#counts = { ...EMPTY_COUNTS };
    for (const row of this.#sql.exec<{ state: string; n: number }>("SELECT state, count(*) AS n FROM jobs GROUP BY state")) {
      if (row.state in this.#counts) this.#counts[row.state as JobState] = row.n;
    }
  }

  get lastFeed(): number {
    return this.#lastFeed;
  }

  /** Jobs by state, kept in memory: counting costs no read and no write. */
  counts(): Record<JobState, number> {
    return { ...this.#counts };
  }

  get active(): number {
    return this.#counts.queued + this.#counts.running + this.#counts.waiting;
  }

  /** A job's state here, "removed" for a tombstone, null if it was never here. */
  stateOf(id: string): JobState | "removed" | null {
    return (this.#sql.exec<{ state: JobState | "removed" }>("SELECT state FROM jobs WHERE id = ?", id).toArray()[0]?.state) ?? null;
  }

  /** A new job's listing (a removed id is never admitted again: see OwnerIndex.admit). */
  add(listing: JobListing, now: number): FeedEntry {
    return this.#insert(listing, 1, now);
  }

  /**
   * Saves a job's listing if it is newer than what is stored; the feed entry it made, or
   * null. A removed job's reports are late and change nothing.
   */
  save(listing: JobListing, seq: number, now: number): FeedEntry | null {
    const old = this.#sql.exec<{ seq: number; state: string }>("SELECT seq, state FROM jobs WHERE id = ?", listing.id).toArray()[0];
    if (!old) return this.#insert(listing, seq, now);
    if (old.seq >= seq || old.state === "removed") return null;
    const feed = ++this.#lastFeed;
    // An update touches only what changes (not the list's index, keyed by creation): fewer rows written.
    this.#write(
      "UPDATE jobs SET state = ?, percent = ?, message = ?, started_at = ?, finished_at = ?, seq = ?, feed = ?, changed_at = ? WHERE id = ?",
      listing.state, listing.percent, listing.message, listing.startedAt, listing.finishedAt, seq, feed, now, listing.id,
    );
    this.#counts[old.state as JobState]--;
    this.#counts[listing.state]++;
    return { seq: feed, at: now, type: "job", data: listing, counts: this.counts() };
  }

  #insert(listing: JobListing, seq: number, now: number): FeedEntry {
    const feed = ++this.#lastFeed;
    this.#write(
      `INSERT INTO jobs (id, type, state, tags, percent, message, created_at, started_at, finished_at, seq, feed, changed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      listing.id, listing.type, listing.state, JSON.stringify(listing.tags), listing.percent, listing.message,
      listing.createdAt, listing.startedAt, listing.finishedAt, seq, feed, now,
    );
    this.#counts[listing.state]++;
    return { seq: feed, at: now, type: "job", data: listing, counts: this.counts() };
  }

  /** Leaves a tombstone, so the feed tells of the removal; null if the job was not here. */
  remove(id: string, now: number): FeedEntry | null {
    const old = this.#sql.exec<{ state: string }>("SELECT state FROM jobs WHERE id = ?", id).toArray()[0];
    if (!old || old.state === "removed") return null;
    const feed = ++this.#lastFeed;
    this.#write("UPDATE jobs SET state = 'removed', feed = ?, changed_at = ? WHERE id = ?", feed, now, id);
    if (old.state in this.#counts) this.#counts[old.state as JobState]--;
    return { seq: feed, at: now, type: "removed", data: { id }, counts: this.counts() };
  }

  /**
   * Tombstones older than `before` go: a feed resumed from before then never hears of those
   * removals (its client lists again to see them; README "The owner feed"). The newest row stays, whatever it is: `lastFeed` is read back from it when the index wakes,
   * and must not count back (a feed that saw that seq would miss the next change).
   */
  purge(before: number): void {
    this.#write("DELETE FROM jobs WHERE state = 'removed' AND changed_at < ? AND feed < ?", before, this.#lastFeed);
  }

  /** A dashboard session signed out before it expired; kept until then, as long as a copy of its cookie would be good for. */
  endSession(id: string, expiresAt: number, now: number): void {
    this.#write("DELETE FROM ended_sessions WHERE expires_at < ?", now);
    this.#write("INSERT OR IGNORE INTO ended_sessions VALUES (?, ?)", id, expiresAt);
  }

  sessionEnded(id: string): boolean {
    return this.#sql.exec("SELECT 1 FROM ended_sessions WHERE id = ?", id).toArray().length > 0;
  }

  list(filter: ListFilter): JobListing[] {
    const where = ["state != 'removed'"];
    const bindings: SqlStorageValue[] = [];
    const and = (clause: string, ...values: SqlStorageValue[]) => {
      where.push(clause);
      bindings.push(...values);
    };
    if (filter.state) and("state = ?", filter.state);
    if (filter.type) and("type = ?", filter.type);
    if (filter.tag) and("EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?)", filter.tag);
    if (filter.before) and("(created_at < ? OR (created_at = ? AND id < ?))", filter.before.createdAt, filter.before.createdAt, filter.before.id);
    const rows = this.#sql.exec<JobIndexRow>(
      `SELECT * FROM jobs WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ?`, ...bindings, filter.limit,
    );
    return [...rows].map(toListing);
  }

  /** Feed entries after `since`, in feed order. */
  feedAfter(since: number, limit: number): FeedEntry[] {
    const rows = this.#sql.exec<JobIndexRow>("SELECT * FROM jobs WHERE feed > ? ORDER BY feed LIMIT ?", since, limit);
    const counts = this.counts();
    return [...rows].map((row) => row.state === "removed"
      ? { seq: row.feed, at: row.changed_at, type: "removed", data: { id: row.id }, counts }
      : { seq: row.feed, at: row.changed_at, type: "job", data: toListing(row), counts });
  }

  #write(query: string, ...bindings: SqlStorageValue[]): void {
    this.rowsWritten += this.#sql.exec(query, ...bindings).rowsWritten;
  }
}

function toListing(row: JobIndexRow): JobListing {
  return {
    id: row.id,
    type: row.type,
    state: row.state as JobState,
    tags: JSON.parse(row.tags) as string[],
    percent: row.percent,
    message: row.message,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

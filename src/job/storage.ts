// All SQL of a job's object. Two tables, both keyed by an integer (no second index):
//   job  one row: what was asked, the state, the outcome, the usage counters;
//   log  one row per batch of events, with the step records (and at most one step result)
//        saved in the same write. A step usually costs one row: its result, its events and
//        the next step's start share it (see event-log.ts).
// And once a job made with an Idempotency-Key is deleted or expires, instead of both:
//   retired  one row: when. Its id comes from its owner and key, so a create with that
//        key again would land here: the id stays gone (its old links must not show a new
//        job), and the key is spent.
// Row types (snake_case, epoch ms, JSON text) are kept apart from the domain types.
import type { Budget, JobEvent, JobState, Json, Progress, StepState, Usage } from "../protocol";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS job (
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  input TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  owner TEXT,
  control_hash TEXT NOT NULL,
  budget TEXT NOT NULL,
  tags TEXT NOT NULL,
  webhook TEXT,
  state TEXT NOT NULL,
  result TEXT,
  error TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  deadline_at INTEGER NOT NULL,
  expires_at INTEGER,
  usage TEXT NOT NULL,
  keyed INTEGER NOT NULL DEFAULT 0,
  index_shards INTEGER
);
CREATE TABLE IF NOT EXISTS log (
  seq INTEGER PRIMARY KEY,
  events TEXT NOT NULL,
  steps TEXT,
  result TEXT,
  progress TEXT
);`;

export interface JobRow {
  id: string;
  type: string;
  input: string;
  fingerprint: string;
  /** null for a job an anonymous visitor created. */
  owner: string | null;
  /** SHA-256 (hex) of the job's control token. */
  control_hash: string;
  /** JSON Budget. */
  budget: string;
  /** JSON array of strings. */
  tags: string;
  /** JSON WebhookRecord, when the job has a completion webhook. */
  webhook: string | null;
  state: JobState;
  result: string | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  deadline_at: number;
  expires_at: number | null;
  /** 1: made with an Idempotency-Key (its id retires with it). Absent in rows written before the column was (then retired, as it may have been). */
  keyed?: number;
  /**
   * INDEX_SHARDS when the job was made, which placed it in its owner's index: it reports
   * there for good, whatever a later deploy sets. null for an anonymous visitor's job;
   * absent in rows written before the column was (those follow the deployment's value).
   */
  index_shards?: number | null;
  /** JSON Usage, as of the last write of this row. */
  usage: string;
}

/** A step's durable state. Its result is stored once, in the log row where it succeeded. */
export interface StepRecord {
  position: number;
  name: string;
  state: StepState;
  attempts: number;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  until: number | null;
  /** Set on a succeeded record that came with a result in the same row. */
  hasResult?: boolean;
}

/** A step record as folded from the log: where to find its result. */
export interface StoredStep extends StepRecord {
  resultRow: number | null;
}

/** One write: events (seq-ordered, gap-free), step records, at most one step result. */
export interface Batch {
  events: JobEvent[];
  steps: StepRecord[];
  result: string | null;
  progress: Progress | null;
}

export interface NewJob {
  id: string;
  type: string;
  input: Json;
  fingerprint: string;
  owner: string | null;
  controlHash: string;
  budget: Budget;
  tags: string[];
  webhook: string | null;
  createdAt: number;
  deadlineAt: number;
  /** Made with an Idempotency-Key. */
  keyed: boolean;
  /** INDEX_SHARDS as the job is made; null for an anonymous visitor's job. */
  indexShards: number | null;
}

type JobPatch = Partial<Pick<JobRow, "state" | "result" | "error" | "started_at" | "finished_at" | "expires_at" | "webhook">>;

const NO_USAGE: Usage = { rowsWritten: 0, alarms: 0, requests: 0, messages: 0, awakeMs: 0 };

export class JobStore {
  #tableNames: ReadonlySet<string> | undefined = undefined;
  /** The job row as last read; undefined: read it on next use. */
  #row: JobRow | null | undefined = undefined;
  /** The latest progress in the log; undefined: not read yet. */
  #progress: Progress | null | undefined = undefined;
  #lastSeq: number | null = null;
  /** Counters since the object woke, on top of the job row's. */
  readonly #usage: Usage = { ...NO_USAGE };
  #storedUsage: Usage | null = null;

  private readonly sql: SqlStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
  }

  /** Resolves once every write so far is durable. */
  sync(): Promise<void> {
    return this.storage.sync();
  }

  /** Whether a job lives here. Reads only, so probing a gone job writes nothing. */
  exists(): boolean {
    return this.#tables().has("job");
  }

  /** Whether this object's id is retired (see the top of this file). */
  retired(): boolean {
    return this.#tables().has("retired");
  }

  /**
   * Deletes the job and retires its id, in one transaction: a crash leaves either the job
   * or the marker, never an empty object a create with the same key could fill again.
   */
  retire(at: number): void {
    this.storage.transactionSync(() => {
      this.sql.exec("DROP TABLE IF EXISTS job");
      this.sql.exec("DROP TABLE IF EXISTS log");
      this.sql.exec("CREATE TABLE IF NOT EXISTS retired (at INTEGER NOT NULL)");
      this.sql.exec("INSERT INTO retired VALUES (?)", at);
    });
    this.reset();
    this.#tableNames = new Set(["retired"]);
  }

  /** Which of this file's tables there are: read once, then kept as this store changes them. */
  #tables(): ReadonlySet<string> {
    this.#tableNames ??= new Set(this.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('job', 'retired')").toArray().map((row) => row.name));
    return this.#tableNames;
  }

  create(job: NewJob): JobRow {
    this.#storedUsage = { ...NO_USAGE };
    this.#write(SCHEMA);
    this.#tableNames = new Set(["job"]);
    const row: Omit<JobRow, "usage"> = {
      id: job.id, type: job.type, input: JSON.stringify(job.input), fingerprint: job.fingerprint, owner: job.owner, control_hash: job.controlHash,
      budget: JSON.stringify(job.budget), tags: JSON.stringify(job.tags), webhook: job.webhook, state: "queued", result: null, error: null,
      created_at: job.createdAt, started_at: null, finished_at: null, deadline_at: job.deadlineAt, expires_at: null, keyed: job.keyed ? 1 : 0,
      index_shards: job.indexShards,
    };
    const columns = Object.keys(row);
    const usage = this.#writeJob(`INSERT INTO job (${columns.join(", ")}, usage) VALUES (${columns.map(() => "?").join(", ")}, ?)`, ...Object.values(row));
    // The row as written, without reading it back; the log is empty.
    this.#row = { ...row, usage };
    this.#lastSeq = 0;
    this.#progress = null;
    return this.job()!;
  }

  /** The job row, read once and again only after a write to it: most requests read it, few change it. */
  job(): JobRow | null {
    if (this.#row === undefined) {
      this.#row = this.exists() ? ((this.sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM job").toArray()[0] as unknown as JobRow | undefined) ?? null) : null;
    }
    return this.#row && { ...this.#row };
  }

  /** Updates the job row; the usage counters ride along, so keeping them costs no write. */
  updateJob(patch: JobPatch): void {
    const row = this.job();
    const entries = Object.entries(patch);
    const assignments = entries.map(([column]) => `${column} = ?`);
    const usage = this.#writeJob(`UPDATE job SET ${[...assignments, "usage = ?"].join(", ")}`, ...entries.map(([, value]) => value as SqlStorageValue));
    // The row as written, without reading it back.
    this.#row = row && { ...row, ...patch, usage };
  }

  /** The usage counters: as stored in the job row plus what happened since. */
  usage(): Usage {
    if (this.#storedUsage === null) {
      const row = this.job();
      this.#storedUsage = row ? (JSON.parse(row.usage) as Usage) : { ...NO_USAGE };
    }
    const stored = this.#storedUsage;
    return {
      rowsWritten: stored.rowsWritten + this.#usage.rowsWritten,
      alarms: stored.alarms + this.#usage.alarms,
      requests: stored.requests + this.#usage.requests,
      messages: (stored.messages ?? 0) + this.#usage.messages,
      awakeMs: stored.awakeMs + Math.round(this.#usage.awakeMs),
    };
  }

  /**
   * Counts toward usage as Cloudflare bills it: an alarm set is a row written, an alarm
   * run is a request, and incoming WebSocket messages are counted apart (20 bill as one).
   */
  count(what: "alarm" | "request" | "message"): void {
    if (what === "alarm") {
      this.#usage.alarms += 1;
      this.#usage.rowsWritten += 1;
    } else if (what === "request") {
      this.#usage.requests += 1;
    } else {
      this.#usage.messages += 1;
    }
  }

  addAwake(ms: number): void {
    this.#usage.awakeMs += ms;
  }

  lastSeq(): number {
    this.#lastSeq ??= Number(this.sql.exec("SELECT coalesce(max(seq), 0) AS seq FROM log").one().seq);
    return this.#lastSeq;
  }

  /** Writes one batch as one row. Its events must continue the log without a gap. */
  appendBatch(batch: Batch): void {
    const last = batch.events.at(-1);
    if (!last) throw new Error("A log row needs at least one event");
    this.#write(
      "INSERT INTO log (seq, events, steps, result, progress) VALUES (?, ?, ?, ?, ?)",
      last.seq, JSON.stringify(batch.events), batch.steps.length ? JSON.stringify(batch.steps) : null, batch.result,
      batch.progress ? JSON.stringify(batch.progress) : null,
    );
    this.#lastSeq = last.seq;
    if (batch.progress) this.#progress = batch.progress;
  }

  /**
   * Up to `limit` events after `since`, and no more rows than make about `maxChars` of
   * JSON (at least one): what a reader can take is read, not a whole page of big events.
   */
  eventsAfter(since: number, limit: number, maxChars = Infinity): JobEvent[] {
    const events: JobEvent[] = [];
    let chars = 0;
    const rows = this.sql.exec<{ events: string }>("SELECT events FROM log WHERE seq > ? ORDER BY seq", since);
    for (const row of rows) {
      for (const event of JSON.parse(row.events) as JobEvent[]) {
        if (event.seq <= since) continue;
        events.push(event);
        if (events.length >= limit) return events;
      }
      chars += row.events.length;
      if (chars >= maxChars) return events;
    }
    return events;
  }

  /** The events at or before `seq`, newest first, from at most `maxRows` rows of the log. */
  *eventsBackFrom(seq: number, maxRows: number): Generator<JobEvent> {
    // A row's seq is its last event's: the first row at or past `seq` holds it.
    const rows = this.sql.exec<{ events: string }>(
      "SELECT events FROM log WHERE seq <= (SELECT IFNULL(MIN(seq), ?) FROM log WHERE seq >= ?) ORDER BY seq DESC LIMIT ?", seq, seq, maxRows,
    );
    for (const row of rows) {
      const events = JSON.parse(row.events) as JobEvent[];
      for (let i = events.length - 1; i >= 0; i--) if (events[i]!.seq <= seq) yield events[i]!;
    }
  }

  /** Every step's latest record, by name, in position order. */
  steps(): Map<string, StoredStep> {
    const steps = new Map<string, StoredStep>();
    const rows = this.sql.exec<{ seq: number; steps: string }>("SELECT seq, steps FROM log WHERE steps IS NOT NULL ORDER BY seq");
    for (const row of rows) {
      for (const record of JSON.parse(row.steps) as StepRecord[]) {
        steps.set(record.name, { ...record, resultRow: record.hasResult ? row.seq : null });
      }
    }
    return steps;
  }

  /** A succeeded step's result as JSON text. */
  stepResult(row: number): string | null {
    const found = this.sql.exec<{ result: string | null }>("SELECT result FROM log WHERE seq = ?", row).toArray()[0];
    return found?.result ?? null;
  }

  /** Read from the log once, then kept as batches are appended. */
  latestProgress(): Progress | null {
    if (this.#progress === undefined) {
      const found = this.exists() ? this.sql.exec<{ progress: string }>("SELECT progress FROM log WHERE progress IS NOT NULL ORDER BY seq DESC LIMIT 1").toArray()[0] : undefined;
      this.#progress = found ? (JSON.parse(found.progress) as Progress) : null;
    }
    return this.#progress;
  }

  /** Bytes the log holds: events, step records and results. */
  bytesStored(): number {
    const sum = this.sql.exec<{ n: number | null }>(
      "SELECT sum(length(CAST(events AS BLOB)) + coalesce(length(CAST(steps AS BLOB)), 0) + coalesce(length(CAST(result AS BLOB)), 0)) AS n FROM log",
    ).one().n;
    return Number(sum ?? 0);
  }

  /** Forget cached values after the object's storage was deleted. */
  reset(): void {
    this.#tableNames = undefined;
    this.#row = undefined;
    this.#progress = undefined;
    this.#lastSeq = null;
    this.#storedUsage = null;
    Object.assign(this.#usage, NO_USAGE);
  }

  #write(query: string, ...bindings: SqlStorageValue[]): void {
    this.#usage.rowsWritten += this.sql.exec(query, ...bindings).rowsWritten;
  }

  /** A write of the one job row, whose last binding is the usage it carries (this write counted); returns that usage. */
  #writeJob(query: string, ...bindings: SqlStorageValue[]): string {
    this.#row = undefined;
    this.#usage.rowsWritten += 1;
    const usage = JSON.stringify(this.usage());
    this.sql.exec(query, ...bindings, usage);
    return usage;
  }
}

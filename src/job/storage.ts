// All SQL of a job's object. Row types mirror the tables (snake_case, epoch ms, JSON
// text); domain types come from ../protocol; `toSnapshot` and `toEvent` map between them.
import type {
  EventData,
  EventType,
  JobErrorInfo,
  JobEvent,
  JobSnapshot,
  JobState,
  Json,
  Progress,
  StepState,
  StepSummary,
} from "../protocol";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS job (
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  input TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  owner TEXT,
  control_hash TEXT NOT NULL,
  state TEXT NOT NULL,
  progress TEXT,
  result TEXT,
  error TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  deadline_at INTEGER NOT NULL,
  expires_at INTEGER,
  rows_written INTEGER NOT NULL DEFAULT 0,
  alarms_armed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS steps (
  name TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  result TEXT,
  error TEXT,
  started_at INTEGER,
  finished_at INTEGER,
  until INTEGER
);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL
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
  state: JobState;
  progress: string | null;
  result: string | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  deadline_at: number;
  expires_at: number | null;
  rows_written: number;
  alarms_armed: number;
}

export interface StepRow {
  name: string;
  position: number;
  state: StepState;
  attempts: number;
  /** JSON text; null when the step returned undefined. */
  result: string | null;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
  until: number | null;
}

interface EventRow {
  seq: number;
  at: number;
  type: EventType;
  data: string;
}

export interface NewJob {
  id: string;
  type: string;
  input: Json;
  fingerprint: string;
  owner: string | null;
  controlHash: string;
  createdAt: number;
  deadlineAt: number;
}

/** Counters from the object's own accounting, for the cost benchmark. */
export interface JobCosts {
  rowsWritten: number;
  alarmsArmed: number;
  eventsStored: number;
  steps: number;
}

type JobPatch = Partial<Omit<JobRow, "id" | "type" | "input" | "fingerprint" | "owner" | "control_hash" | "created_at" | "rows_written">>;

export class JobStore {
  #exists = false;
  #lastSeq: number | null = null;
  /** Rows written since the job row last recorded them. */
  #unrecordedRows = 0;

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
    this.#exists ||= this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'job'").toArray().length > 0;
    return this.#exists;
  }

  create(job: NewJob): JobRow {
    this.sql.exec(SCHEMA);
    this.#write(
      `INSERT INTO job (id, type, input, fingerprint, owner, control_hash, state, created_at, deadline_at)
       VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)`,
      job.id, job.type, JSON.stringify(job.input), job.fingerprint, job.owner, job.controlHash, job.createdAt, job.deadlineAt,
    );
    this.#lastSeq = 0;
    return this.job()!;
  }

  job(): JobRow | null {
    if (!this.exists()) return null;
    return (this.sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM job").toArray()[0] as JobRow | undefined) ?? null;
  }

  updateJob(patch: JobPatch): void {
    const entries = Object.entries(patch);
    const assignments = entries.map(([column]) => `${column} = ?`);
    this.#write(`UPDATE job SET ${assignments.join(", ")}, rows_written = rows_written + ?`,
      ...entries.map(([, value]) => value as SqlStorageValue), this.#unrecordedRows + 1);
    this.#unrecordedRows = 0;
  }

  countAlarm(): void {
    this.#write("UPDATE job SET alarms_armed = alarms_armed + 1, rows_written = rows_written + ?", this.#unrecordedRows + 1);
    this.#unrecordedRows = 0;
  }

  steps(): Map<string, StepRow> {
    const rows = this.sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM steps ORDER BY position").toArray();
    return new Map((rows as unknown as StepRow[]).map((row) => [row.name, row]));
  }

  saveStep(row: StepRow): void {
    this.#write(
      `INSERT OR REPLACE INTO steps (name, position, state, attempts, result, error, started_at, finished_at, until)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.name, row.position, row.state, row.attempts, row.result, row.error, row.started_at, row.finished_at, row.until,
    );
  }

  lastSeq(): number {
    this.#lastSeq ??= Number(this.sql.exec("SELECT coalesce(max(seq), 0) AS seq FROM events").one().seq);
    return this.#lastSeq;
  }

  appendEvent<T extends EventType>(type: T, data: EventData[T], at: number): JobEvent {
    const seq = this.lastSeq() + 1;
    this.#write("INSERT INTO events (seq, at, type, data) VALUES (?, ?, ?, ?)", seq, at, type, JSON.stringify(data));
    this.#lastSeq = seq;
    return { seq, at, type, data } as JobEvent;
  }

  hasLogAfter(seq: number): boolean {
    return this.sql.exec("SELECT 1 FROM events WHERE seq > ? AND type = 'log' LIMIT 1", seq).toArray().length > 0;
  }

  /** Events with seq > since, oldest first. */
  eventsAfter(since: number, limit: number): JobEvent[] {
    const rows = this.sql
      .exec<Record<string, SqlStorageValue>>("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", since, limit)
      .toArray() as unknown as EventRow[];
    return rows.map(toEvent);
  }

  costs(): JobCosts {
    const job = this.job();
    return {
      rowsWritten: (job?.rows_written ?? 0) + this.#unrecordedRows,
      alarmsArmed: job?.alarms_armed ?? 0,
      eventsStored: this.lastSeq(),
      steps: Number(this.sql.exec("SELECT count(*) AS n FROM steps").one().n),
    };
  }

  /** Forget cached values after the object's storage was deleted. */
  reset(): void {
    this.#exists = false;
    this.#lastSeq = null;
    this.#unrecordedRows = 0;
  }

  #write(query: string, ...bindings: SqlStorageValue[]): void {
    this.#unrecordedRows += this.sql.exec(query, ...bindings).rowsWritten;
  }
}

function toEvent(row: EventRow): JobEvent {
  return { seq: row.seq, at: row.at, type: row.type, data: JSON.parse(row.data) } as JobEvent;
}

function toStepSummary(row: StepRow): StepSummary {
  return {
    name: row.name,
    state: row.state,
    attempts: row.attempts,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    until: row.until,
    error: row.error,
  };
}

function parseOrNull<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

export function toSnapshot(job: JobRow, steps: Iterable<StepRow>, lastSeq: number): JobSnapshot {
  const summaries = [...steps].map(toStepSummary);
  return {
    id: job.id,
    type: job.type,
    state: job.state,
    input: JSON.parse(job.input) as Json,
    progress: parseOrNull<Progress>(job.progress),
    steps: summaries,
    attempts: summaries.reduce((sum, step) => sum + step.attempts, 0),
    result: parseOrNull<Json>(job.result),
    error: parseOrNull<JobErrorInfo>(job.error),
    createdAt: job.created_at,
    startedAt: job.started_at,
    finishedAt: job.finished_at,
    deadlineAt: job.deadline_at,
    expiresAt: job.expires_at,
    lastSeq,
  };
}

// Wire types shared by the Worker, the Durable Object and the browser client.
// This module has no runtime imports or values: the browser uses `import type` only.

/** Any value that survives JSON.stringify/JSON.parse unchanged. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export type JobState = "queued" | "running" | "waiting" | "succeeded" | "failed" | "canceled";
export type TerminalState = "succeeded" | "failed" | "canceled";
export type StepState = "running" | "waiting" | "sleeping" | "succeeded" | "failed" | "canceled";
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Progress {
  ratio?: number;
  current?: number;
  total?: number;
  message?: string;
}

export interface JobErrorInfo {
  /** Machine-readable: "step_failed", "timeout", "canceled", "run_failed", "invalid_result", "limit_exceeded", "not_admitted", "unknown_type". */
  code: string;
  message: string;
  /** Name of the error class thrown by the job's code, when there was one. */
  name?: string;
  step?: string;
  /** With "limit_exceeded": which budget the job ran out of. */
  limit?: BudgetLimit;
}

/** What one job may use; past any of these it fails with "limit_exceeded". */
export interface Budget {
  steps: number;
  /** Events stored, every type included. */
  events: number;
  /** Bytes stored: events, step records and results. */
  bytes: number;
  /** Longest deadline a job may have. */
  runTimeMs: number;
}
export type BudgetLimit = keyof Budget;

/**
 * What a job has cost so far, from the object's own counters (shown to its owner). They
 * are stored with the job row's own writes, a finished job's whole run with its end;
 * what came after the last write is lost if the object is evicted before the next.
 */
export interface Usage {
  /** SQLite rows written, each alarm set counted as one. */
  rowsWritten: number;
  /** Alarms set. */
  alarms: number;
  /** Requests into the object: creates, reads, subscribes, control, and alarm runs. */
  requests: number;
  /** WebSocket messages into the object (acks): billed as one request per 20. */
  messages: number;
  /** Time spent running slices and answering requests, ms. */
  awakeMs: number;
}

export type StepEventStatus = "started" | "succeeded" | "retrying" | "failed" | "sleeping" | "woke" | "canceled";

/** Payloads by event type; an event on the wire is `{ seq, at, type, data }`. */
export interface EventData {
  state: { state: JobState };
  step: {
    name: string;
    status: StepEventStatus;
    attempt: number;
    /** Epoch ms of the next attempt (retrying) or of the wake-up (sleeping). */
    until?: number;
    error?: string;
  };
  progress: Progress;
  log: { level: LogLevel; message: string };
  result: { result: Json };
  error: JobErrorInfo;
  /** A completion webhook's delivery attempt; these come after the job's terminal event. */
  webhook: { attempt: number; outcome: "delivered" | "retrying" | "failed"; httpStatus?: number; error?: string; until?: number };
}

/** Where a job's completion webhook stands. */
export interface WebhookStatus {
  /** Shown to the job's owner only: a receiver's URL may carry a secret. */
  url?: string;
  state: "pending" | "delivered" | "failed";
  attempts: number;
}

export type EventType = keyof EventData;

export type JobEvent = {
  [T in EventType]: { seq: number; at: number; type: T; data: EventData[T] };
}[EventType];

export interface StepSummary {
  /** 0 for the first step the job ran. */
  position: number;
  name: string;
  state: StepState;
  attempts: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Epoch ms the step waits for: next retry or end of a sleep. */
  until: number | null;
  error: string | null;
}

/** The steps in a bounded summary; GET /jobs/:id/steps pages through all of them. */
export interface StepsSummary {
  total: number;
  counts: Record<StepState, number>;
  /** Attempts past each step's first, over all steps: retries and crash recoveries. */
  retries: number;
  /** The step that is running, waiting for a retry or sleeping, if any. */
  current: StepSummary | null;
  /** The last few steps by position, oldest first. */
  recent: StepSummary[];
  /** The first few steps that failed. */
  failed: StepSummary[];
}

export interface StepPage {
  steps: StepSummary[];
  /** Pass as `after` for the next page; null at the end. */
  next: number | null;
  total: number;
}

export interface JobSnapshot {
  id: string;
  type: string;
  tags: string[];
  state: JobState;
  input: Json;
  progress: Progress | null;
  steps: StepsSummary;
  result: Json | null;
  error: JobErrorInfo | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  deadlineAt: number;
  /** When a finished job's storage is deleted. */
  expiresAt: number | null;
  lastSeq: number;
  budget: Budget;
  /** Live viewers over every transport, at the time of the snapshot. */
  viewers: number;
  webhook: WebhookStatus | null;
  /** Only in answers to the job's owner. */
  usage?: Usage;
}

export interface JobUrls {
  self: string;
  page: string;
  events: string;
  stream: string;
  sse: string;
  ws: string;
  cancel: string;
}

export interface CreatedJob {
  id: string;
  state: JobState;
  urls: JobUrls;
  /** Cancels or deletes this job (header Control-Token). Only in the 201 that created it. */
  controlToken?: string;
}

export interface EventPage {
  events: JobEvent[];
  /** Pass as `since` to get the next page. */
  nextSince: number;
  lastSeq: number;
  done: boolean;
}

export interface JobTypeInfo {
  type: string;
  description: string;
  /** JSON Schema of the input, for forms and clients. */
  inputSchema: Json;
  example: Json;
}

export interface ApiError {
  error: { code: string; message: string; issues?: { path: string; message: string }[] };
}

/**
 * Frames the server sends on a live WebSocket, one per message (with `?batch`, one per line
 * of a message: see the README). `mark`: answer it with an
 * ack quoting its token once you have handled the frames before it; the server sends at
 * most 256 KiB you have not confirmed. `presence`: the number of live viewers changed
 * (not stored, not in the log).
 */
export type ServerFrame =
  | { type: "snapshot"; snapshot: JobSnapshot }
  | { type: "event"; event: JobEvent }
  | { type: "presence"; viewers: number }
  | { type: "mark"; seq: number; token: string };

/** Frames a client sends: `ack` answering a mark (and the text frame "ping"). */
export type ClientFrame = { type: "ack"; token: string };

/** A job as its owner's list shows it. */
export interface JobListing {
  id: string;
  type: string;
  state: JobState;
  tags: string[];
  /** Whole percent done, when the job reports numbers. */
  percent: number | null;
  /** The latest progress message, or the error's message once it failed. */
  message: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** GET /jobs: the owner's jobs, newest first, a page at a time. */
export interface JobList {
  jobs: JobListing[];
  /** Pass as `cursor` for the next page; null at the end. */
  next: string | null;
  /** All of the owner's jobs by state, whatever the filters. */
  counts: Record<JobState, number>;
  /** The owner feed's position as of this list (`since` for /feed): follow the changes after it. */
  feed: string;
}

/**
 * The owner feed: each change to one of the owner's jobs is an entry with the job's new
 * listing; a deleted or expired job is `removed`. Entries replace earlier ones of the
 * same job, so `seq` has gaps; resuming after a seq gives every job changed since.
 * `counts`: the owner's jobs by state (in this shard) as of the entry, or as of now for
 * entries replayed from before.
 */
export type FeedEntry =
  | { seq: number; at: number; type: "job"; data: JobListing; counts: Record<JobState, number> }
  | { seq: number; at: number; type: "removed"; data: { id: string }; counts: Record<JobState, number> };

export interface FeedSnapshot {
  counts: Record<JobState, number>;
  lastSeq: number;
  viewers?: number;
}

/** Frames of the owner feed's WebSocket, as for a job's: snapshot, entries, presence, marks. */
export type FeedFrame =
  | { type: "snapshot"; snapshot: FeedSnapshot }
  | { type: "event"; event: FeedEntry }
  | { type: "presence"; viewers: number }
  | { type: "mark"; seq: number; token: string };

/**
 * Many streams on one connection (/live: jobs; /feed: the owner feed's shards): every
 * frame of each source's own stream, tagged with its `source` (a job id, or "feed-N"),
 * and frames for a source's end (its terminal event was sent, or it was unsubscribed)
 * and for a subscription that was refused. One per message (with `?batch` on the
 * WebSocket, one per line of a message, as on a job's own).
 */
export type MuxServerFrame =
  | ((ServerFrame | FeedFrame) & { source: string })
  | { type: "end"; source: string }
  | { type: "error"; source: string; error: { code: string; message: string } };

/** Frames a client sends on a /live WebSocket (acks also on /feed). */
export type MuxClientFrame =
  | { type: "subscribe"; source: string; since?: number }
  | { type: "unsubscribe"; source: string }
  | { type: "ack"; source: string; token: string };

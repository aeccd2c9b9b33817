// Wire types shared by the Worker, the Durable Object and the browser client.
// This module has no runtime imports or values: the browser uses `import type` only.

/** Any value that survives JSON.stringify/JSON.parse unchanged. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export type JobState = "queued" | "running" | "waiting" | "succeeded" | "failed" | "canceled";
export type TerminalState = "succeeded" | "failed" | "canceled";
export type StepState = "running" | "waiting" | "sleeping" | "succeeded" | "failed";
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Progress {
  ratio?: number;
  current?: number;
  total?: number;
  message?: string;
}

export interface JobErrorInfo {
  /** Machine-readable: "step_failed", "timeout", "canceled", "run_failed", "invalid_result". */
  code: string;
  message: string;
  /** Name of the error class thrown by the job's code, when there was one. */
  name?: string;
  step?: string;
}

export type StepEventStatus = "started" | "succeeded" | "retrying" | "failed" | "sleeping" | "woke";

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
}

export type EventType = keyof EventData;

export type JobEvent = {
  [T in EventType]: { seq: number; at: number; type: T; data: EventData[T] };
}[EventType];

export interface StepSummary {
  name: string;
  state: StepState;
  attempts: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Epoch ms the step waits for: next retry or end of a sleep. */
  until: number | null;
  error: string | null;
}

export interface JobSnapshot {
  id: string;
  type: string;
  state: JobState;
  input: Json;
  progress: Progress | null;
  steps: StepSummary[];
  /** Sum of all step attempts, retries and crash recoveries included. */
  attempts: number;
  result: Json | null;
  error: JobErrorInfo | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  deadlineAt: number;
  /** When a finished job's storage is deleted. */
  expiresAt: number | null;
  lastSeq: number;
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

/** Frames the server sends on a live connection (WebSocket messages, one per frame). */
export type ServerFrame = { type: "snapshot"; snapshot: JobSnapshot } | { type: "event"; event: JobEvent };

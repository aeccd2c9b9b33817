// What happens after a failed attempt, or when a job's object does not have the job's type:
// pure decisions, unit-tested in test/unit/retry.test.ts.
import type { Backoff } from "../jobs/define";

/** Wait before the retry that follows failed attempt number `attempt` (1-based). */
export function retryDelay(delayMs: number, backoff: Backoff, attempt: number): number {
  if (backoff === "constant") return delayMs;
  if (backoff === "linear") return delayMs * attempt;
  return delayMs * 2 ** (attempt - 1);
}

export interface FailedAttempt {
  /** 1 for the first attempt. */
  attempt: number;
  /** The job code said not to retry (NonRetryableError). */
  nonRetryable: boolean;
  retries: { limit: number; delayMs: number; backoff: Backoff };
  now: number;
  deadline: number;
}

export type RetryDecision =
  | { kind: "retry"; at: number }
  | { kind: "fail"; reason: "non_retryable" | "no_retries_left" }
  /** The next attempt would start past the job's deadline. */
  | { kind: "time_out" };

export function decideRetry({ attempt, nonRetryable, retries, now, deadline }: FailedAttempt): RetryDecision {
  if (nonRetryable) return { kind: "fail", reason: "non_retryable" };
  if (attempt > retries.limit) return { kind: "fail", reason: "no_retries_left" };
  const at = now + retryDelay(retries.delayMs, retries.backoff, attempt);
  return at >= deadline ? { kind: "time_out" } : { kind: "retry", at };
}

/** A step found running when its slice starts was interrupted (crash or eviction): may it run again? */
export function mayResumeInterrupted(attempts: number, limit: number): boolean {
  return attempts <= limit;
}

/** The longest wait between two looks for a job type that has not reached the job's object. */
export const MISSING_TYPE_WAIT_MAX_MS = 5 * 60_000;

export interface MissingType {
  type: string;
  /** The job has run a slice: an object of a deployment that had its type ran it. */
  started: boolean;
  createdAt: number;
  now: number;
  deadline: number;
}

/** What a job waiting for its type tells its viewers, once. */
export function waitingForType(type: string): string {
  return `Job type "${type}" has not reached this job's Durable Object yet (a deploy under way): the job waits queued until it does, or fails at its deadline`;
}

export type MissingTypeDecision = { kind: "wait"; at: number } | { kind: "fail"; message: string };

/**
 * The job's object does not have the job's type. A job that never ran was made by a Worker
 * that has it, so the deploy that brings it has not reached this object yet: code reaches
 * Durable Objects seconds to minutes after Workers, and a gradual deployment keeps some on
 * the old version until it ends. Such a job waits, looking again after as long as it has
 * existed (1 s to 5 min: a few looks for a deploy under way, few alarms for a long one),
 * and fails when the next look would be past its deadline. A job that ran has lost its
 * type to a deploy (or a rollback): no deploy under way brings it back, so it fails now.
 */
export function decideMissingType({ type, started, createdAt, now, deadline }: MissingType): MissingTypeDecision {
  if (started) return { kind: "fail", message: `Job type "${type}" is no longer registered` };
  const at = now + Math.min(MISSING_TYPE_WAIT_MAX_MS, Math.max(1_000, now - createdAt));
  if (at < deadline) return { kind: "wait", at };
  return { kind: "fail", message: `Job type "${type}" never reached the Durable Object of this job before its deadline: the deployment that runs the object does not have it` };
}

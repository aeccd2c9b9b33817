// What happens after a failed attempt: pure decisions, unit-tested in test/unit/retry.test.ts.
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

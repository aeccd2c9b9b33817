// Facts about a job's state and progress that the server, the text stream and the
// browser all need. Pure: no runtime imports.
import type { JobEvent, JobState, Progress, StepState, TerminalState } from "../protocol";

/** Every state a job goes through, in the order lists show them. */
export const JOB_STATES: readonly JobState[] = ["queued", "running", "waiting", "succeeded", "failed", "canceled"];
export const STEP_STATES: readonly StepState[] = ["running", "waiting", "sleeping", "succeeded", "failed", "canceled"];

/** Steps a summary lists as `recent` and as `failed`. */
export const SUMMARY_STEPS = 5;

const TERMINAL: ReadonlySet<JobState> = new Set<TerminalState>(["succeeded", "failed", "canceled"]);

export function isTerminal(state: JobState): state is TerminalState {
  return TERMINAL.has(state);
}

/**
 * A viewer resuming after `since` has seen the whole of an ended job: it is answered 204,
 * which stops an EventSource's retries, rather than a stream with nothing in it.
 */
export function seenToEnd(job: { state: JobState; lastSeq: number }, since: number): boolean {
  return isTerminal(job.state) && since >= job.lastSeq;
}

/** Why a job's object closes its subscribers when the job is gone: deleted, or expired after its retention. */
export const GONE_REASONS = { deleted: "job deleted", expired: "job expired" } as const;

export function isGoneReason(reason: string): boolean {
  return reason === GONE_REASONS.deleted || reason === GONE_REASONS.expired;
}

/** The last event of every job: its result, or its error (cancel included). */
export function isTerminalEvent(event: JobEvent): boolean {
  return event.type === "result" || event.type === "error";
}

/** Whole percent done; a succeeded job is done whatever its last progress said. */
export function percentDone(progress: Progress | null, state: JobState): number | null {
  return state === "succeeded" ? 100 : percentOf(progress);
}

/** Whole percent from a ratio or current/total, clamped to 0..100; null without numbers. */
export function percentOf(progress: Progress | null): number | null {
  if (!progress) return null;
  const ratio = progress.ratio ?? (progress.total ? (progress.current ?? 0) / progress.total : null);
  return ratio === null || !Number.isFinite(ratio) ? null : Math.max(0, Math.min(100, Math.floor(ratio * 100)));
}

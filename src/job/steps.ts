// The steps as answers show them: a bounded summary for snapshots, pages for the full list.
import { SUMMARY_STEPS } from "../lib/job-state";
import type { StepPage, StepState, StepsSummary, StepSummary } from "../protocol";
import type { StepRecord } from "./storage";

export const MAX_STEP_PAGE = 500;

export function toStepSummary(record: StepRecord): StepSummary {
  return {
    position: record.position,
    name: record.name,
    state: record.state,
    attempts: record.attempts,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    until: record.until,
    error: record.error,
  };
}

/** `steps` in position order. */
export function summarizeSteps(steps: Iterable<StepRecord>): StepsSummary {
  const counts: Record<StepState, number> = { running: 0, waiting: 0, sleeping: 0, succeeded: 0, failed: 0, canceled: 0 };
  let total = 0;
  let retries = 0;
  let current: StepRecord | null = null;
  const recent: StepRecord[] = [];
  const failed: StepRecord[] = [];
  for (const step of steps) {
    total++;
    counts[step.state]++;
    retries += Math.max(0, step.attempts - 1);
    if (step.state === "running" || step.state === "waiting" || step.state === "sleeping") current = step;
    if (step.state === "failed" && failed.length < SUMMARY_STEPS) failed.push(step);
    recent.push(step);
    if (recent.length > SUMMARY_STEPS) recent.shift();
  }
  return {
    total, counts, retries,
    current: current && toStepSummary(current),
    recent: recent.map(toStepSummary),
    failed: failed.map(toStepSummary),
  };
}

/** Steps at positions after `after` (-1: from the first), at most `limit` of them. */
export function stepPage(steps: StepRecord[], after: number, limit: number): StepPage {
  const start = Math.max(0, after + 1);
  const page = steps.slice(start, start + Math.min(limit, MAX_STEP_PAGE));
  const last = page.at(-1);
  return { steps: page.map(toStepSummary), next: last && last.position < steps.length - 1 ? last.position : null, total: steps.length };
}

// Folds live events into the job's snapshot, so the page can show what the object would
// answer now without asking it again. Each connection starts from a fresh snapshot, so a
// slip here lasts only until the next one.
import { SUMMARY_STEPS } from "../lib/job-state";
import type { JobEvent, JobSnapshot, StepsSummary, StepSummary } from "../protocol";

export function applyEvent(job: JobSnapshot, event: JobEvent): JobSnapshot {
  const next: JobSnapshot = { ...job, lastSeq: Math.max(job.lastSeq, event.seq) };
  switch (event.type) {
    case "state": {
      next.state = event.data.state;
      if (event.data.state === "running" && next.startedAt === null) next.startedAt = event.at;
      return next;
    }
    case "progress":
      return { ...next, progress: event.data };
    case "step":
      return { ...next, steps: applyStep(job.steps, event) };
    case "result":
      return { ...next, state: "succeeded", result: event.data.result, finishedAt: event.at };
    case "error":
      return { ...next, state: event.data.code === "canceled" ? "canceled" : "failed", error: event.data, finishedAt: event.at };
    case "log":
    case "webhook":
      return next;
  }
}

type StepEvent = Extract<JobEvent, { type: "step" }>;

/** Mirrors how the engine writes a step's record for each step event, and keeps the summary's counts. */
function applyStep(summary: StepsSummary, { at, data }: StepEvent): StepsSummary {
  const known = [summary.current, ...summary.recent, ...summary.failed].find((s) => s?.name === data.name) ?? null;
  // A step's first event starts it; a later one we do not know is older than the summary shows.
  const isNew = !known && (data.status === "sleeping" || (data.status === "started" && data.attempt === 1));
  const base: StepSummary = known ?? { position: summary.total, name: data.name, state: "running", attempts: 0, startedAt: null, finishedAt: null, until: null, error: null };
  const step = nextStep(base, at, data);
  const counts = { ...summary.counts };
  if (known) counts[known.state]--;
  counts[step.state]++;
  const replace = (list: StepSummary[]) => list.map((s) => (s.name === step.name ? step : s));
  const recent = known && summary.recent.some((s) => s.name === step.name) ? replace(summary.recent) : [...summary.recent, step].slice(-SUMMARY_STEPS);
  const failed = step.state === "failed" && !summary.failed.some((s) => s.name === step.name) && summary.failed.length < SUMMARY_STEPS
    ? [...summary.failed, step] : replace(summary.failed);
  const active = step.state === "running" || step.state === "waiting" || step.state === "sleeping";
  return {
    total: summary.total + (isNew ? 1 : 0),
    counts: known || isNew ? counts : summary.counts,
    retries: summary.retries + (data.status === "started" && data.attempt > 1 ? 1 : 0),
    current: active ? step : summary.current?.name === step.name ? null : summary.current,
    recent,
    failed,
  };
}

function nextStep(base: StepSummary, at: number, data: StepEvent["data"]): StepSummary {
  switch (data.status) {
    case "started":
      return { ...base, state: "running", attempts: data.attempt, startedAt: at, until: null };
    case "succeeded":
      return { ...base, state: "succeeded", attempts: data.attempt, finishedAt: at };
    case "retrying":
      return { ...base, state: "waiting", until: data.until ?? null, error: data.error ?? null };
    case "failed":
      return { ...base, state: "failed", attempts: data.attempt, finishedAt: at, until: null, error: data.error ?? null };
    case "sleeping":
      return { ...base, state: "sleeping", startedAt: at, until: data.until ?? null };
    case "woke":
      return { ...base, state: "succeeded", finishedAt: at, until: null };
    case "canceled":
      return { ...base, state: "canceled", finishedAt: at, until: null };
  }
}

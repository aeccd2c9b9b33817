// Folds live events into the job's snapshot, so the page can show what the object would
// answer now without asking it again. Each connection starts from a fresh snapshot, so a
// slip here lasts only until the next one.
import type { JobEvent, JobSnapshot, StepSummary } from "../protocol";

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
      return { ...next, steps: applyStep(job.steps, event), attempts: job.attempts + (event.data.status === "started" ? 1 : 0) };
    case "result":
      return { ...next, state: "succeeded", result: event.data.result, finishedAt: event.at };
    case "error":
      return { ...next, state: event.data.code === "canceled" ? "canceled" : "failed", error: event.data, finishedAt: event.at };
    case "log":
      return next;
  }
}

type StepEvent = Extract<JobEvent, { type: "step" }>;

/** Mirrors how the engine writes its step rows for each step event. */
function applyStep(steps: StepSummary[], { at, data }: StepEvent): StepSummary[] {
  const old = steps.find((s) => s.name === data.name);
  const base: StepSummary = old ?? { name: data.name, state: "running", attempts: 0, startedAt: null, finishedAt: null, until: null, error: null };
  const step: StepSummary = (() => {
    switch (data.status) {
      case "started":
        return { ...base, state: "running", attempts: data.attempt, startedAt: at, until: null };
      case "succeeded":
        return { ...base, state: "succeeded", attempts: data.attempt, finishedAt: at, error: null };
      case "retrying":
        return { ...base, state: "waiting", until: data.until ?? null, error: data.error ?? null };
      case "failed":
        return { ...base, state: "failed", attempts: data.attempt, finishedAt: at, until: null, error: data.error ?? null };
      case "sleeping":
        return { ...base, state: "sleeping", startedAt: at, until: data.until ?? null };
      case "woke":
        return { ...base, state: "succeeded", finishedAt: at };
    }
  })();
  return old ? steps.map((s) => (s === old ? step : s)) : [...steps, step];
}

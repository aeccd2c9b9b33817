// Wording and numbers of the job page, shared by the server's first render and the
// browser's live updates so both say the same thing. Pure: no DOM.
import { isTerminal, percentDone } from "../lib/job-state";
import type { JobErrorInfo, JobListing, JobSnapshot, JobState, StepsSummary, StepSummary } from "../protocol";

const LABELS: Record<JobState, string> = {
  queued: "Queued", running: "Running", waiting: "Waiting", succeeded: "Succeeded", failed: "Failed", canceled: "Canceled",
};

export function stateLabel(state: JobState): string {
  return LABELS[state];
}


/** From creation to the end, or to now while the job runs. */
export function elapsedMs(snapshot: JobSnapshot, now: number): number {
  return Math.max(0, (snapshot.finishedAt ?? now) - snapshot.createdAt);
}

/** A straight-line estimate from the time spent so far; null when there is nothing to go on. */
export function etaMs(snapshot: JobSnapshot, now: number): number | null {
  const percent = percentDone(snapshot.progress, snapshot.state);
  if (isTerminal(snapshot.state) || percent === null || percent <= 0 || percent >= 100) return null;
  const spent = now - (snapshot.startedAt ?? snapshot.createdAt);
  return spent < 1_000 ? null : (spent * (100 - percent)) / percent;
}

/** `now` null: the job's clock stopped without an end (it is gone), so no ETA. */
export function progressText(snapshot: JobSnapshot, now: number | null): string {
  const percent = percentDone(snapshot.progress, snapshot.state);
  const eta = now === null ? null : etaMs(snapshot, now);
  const parts = [percent === null ? "No progress reported" : `${percent} %`];
  if (eta !== null) parts.push(`about ${duration(eta)} left`);
  if (snapshot.progress?.message && snapshot.state !== "succeeded") parts.push(snapshot.progress.message);
  return parts.join(" · ");
}

export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A configured span in its largest whole unit ("10 minutes", "7 days"), else as `duration` puts it. */
export function spanText(ms: number): string {
  const units: [string, number][] = [["day", 86_400_000], ["hour", 3_600_000], ["minute", 60_000], ["second", 1_000]];
  for (const [unit, size] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}${ms === size ? "" : "s"}`;
  }
  return duration(ms);
}

/** The timeouts a visitor may give a type: its default when none is given, and the most its budget allows. */
export interface TimeoutRange {
  defaultMs: number;
  maxMs: number;
  /** The type says what run time an input needs: a default deadline grows to cover it. */
  fitsInput: boolean;
}

/** The start page's timeout range in words, after "The job fails with a timeout after this long". */
export function timeoutHint(timeout: TimeoutRange): string {
  const grows = timeout.fitsInput ? " or what the input needs, if longer" : "";
  return `: empty for the default, ${spanText(timeout.defaultMs)}${grows}; at most ${timeout.maxMs.toLocaleString("en")} (${spanText(timeout.maxMs)})`;
}

/** Characters of a log line the job page's news reads out. */
const NEWS_LINE_CHARS = 100;

/** The job page's news for screen readers: the progress, if it moved on, and the log lines that came since the last news. */
export function newsText(percent: number | null, lines: number, latest: string): string {
  const line = latest.length > NEWS_LINE_CHARS ? `${latest.slice(0, NEWS_LINE_CHARS)}…` : latest;
  const parts = percent === null ? [] : [`${percent} % done`];
  if (lines === 1) parts.push(`Log: ${line}`);
  else if (lines > 1) parts.push(`${number(lines)} new log lines; the latest: ${line}`);
  return parts.join(". ");
}

/** A log line's time as an offset from the job's creation: the same in every time zone. */
export function offset(at: number, createdAt: number): string {
  const s = Math.max(0, at - createdAt) / 1000;
  return `+${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, "0")}`;
}

/** Whole numbers the same way everywhere: 1,234,567. */
export const number = (n: number) => n.toLocaleString("en-US");
const count = (n: number, one: string, many: string) => `${number(n)} ${n === 1 ? one : many}`;
const plural = (n: number, word: string) => count(n, word, `${word}s`);

export function stepDetail(step: StepSummary, now: number): string {
  // A step that needed retries keeps its last failure: the reason it needed them.
  const after = step.attempts > 1 ? ` after ${plural(step.attempts, "attempt")}${step.error ? `; attempt ${step.attempts - 1} failed: ${step.error}` : ""}` : "";
  switch (step.state) {
    case "running":
      return step.attempts > 1 ? `running, attempt ${step.attempts}` : "running";
    case "waiting":
      return `attempt ${step.attempts} failed: ${step.error ?? "error"}; retry in ${duration((step.until ?? now) - now)}`;
    case "sleeping":
      return `sleeping, wakes in ${duration((step.until ?? now) - now)}`;
    case "succeeded":
      return step.startedAt !== null && step.finishedAt !== null ? `done in ${duration(step.finishedAt - step.startedAt)}${after}` : `done${after}`;
    case "failed":
      return `failed after ${plural(step.attempts, "attempt")}: ${step.error ?? "error"}`;
    case "canceled":
      return "canceled";
  }
}

/** "12 of 60 steps done · 1 retry · 1 failed", or while one runs "12 steps done, 1 under way". */
export function stepsText(steps: StepsSummary): string {
  if (steps.total === 0) return "No steps yet.";
  // While a step is under way more may follow, so a total would read as "nearly done".
  const underWay = steps.counts.running + steps.counts.waiting + steps.counts.sleeping;
  const parts = [underWay ? `${count(steps.counts.succeeded, "step", "steps")} done, ${number(underWay)} under way` : `${number(steps.counts.succeeded)} of ${count(steps.total, "step", "steps")} done`];
  if (steps.retries) parts.push(count(steps.retries, "retry", "retries"));
  if (steps.counts.failed) parts.push(`${number(steps.counts.failed)} failed`);
  if (steps.counts.canceled) parts.push(`${number(steps.counts.canceled)} canceled`);
  return parts.join(" · ");
}

/** A description's `backticked` words as code: alternating text and code parts. */
export function codeSpans(text: string): { text: string; code: boolean }[] {
  return text.split("`").map((part, i) => ({ text: part, code: i % 2 === 1 })).filter((part) => part.text !== "");
}

/** "just now", "12 s ago", "3 min ago", "2 h ago", "4 days ago". */
export function ageText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  const days = Math.floor(s / 86_400);
  return `${days} day${days === 1 ? "" : "s"} ago`;
}

/** Live viewers over every transport; a page counts itself once it is connected. An ended job's live views have ended too. */
export function watching(job: Pick<JobSnapshot, "viewers" | "state">): string {
  return isTerminal(job.state) ? "none (it has ended)" : `${number(job.viewers)} watching`;
}

export function gapText(count: number): string {
  return `… ${count === 1 ? "1 more step" : `${number(count)} more steps`}`;
}

/** The steps a page lists: the failed ones, the last few and the current one, by position, with the gaps between them. */
export function listedSteps(steps: StepsSummary): (StepSummary | { gap: number })[] {
  const byPosition = new Map<number, StepSummary>();
  for (const step of [...steps.failed, ...steps.recent, ...(steps.current ? [steps.current] : [])]) byPosition.set(step.position, step);
  const listed = [...byPosition.values()].sort((a, b) => a.position - b.position);
  const rows: (StepSummary | { gap: number })[] = [];
  let next = 0;
  for (const step of listed) {
    if (step.position > next) rows.push({ gap: step.position - next });
    rows.push(step);
    next = step.position + 1;
  }
  return rows;
}

export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? "null";
}

export function errorText(error: JobErrorInfo): string {
  if (error.code === "canceled") return error.message;
  return `${error.message} (${error.code}${error.step ? `, step ${error.step}` : ""})`;
}

/** A job named in words: its type and the id's start, which tells apart jobs of one type started the same minute. */
export function jobName(job: { type: string; id: string }): string {
  return `${job.type} job ${job.id.slice(0, 6)}…`;
}

/** A listed job's percent and message, as one note. */
export function progressNote(job: JobListing): string {
  return [job.percent === null ? "" : `${job.percent} %`, job.message ?? ""].filter(Boolean).join(" · ");
}

/** From the job's start to its end, or to now while it runs. */
export function tookText(job: Pick<JobListing, "startedAt" | "finishedAt">, now: number): string {
  return job.startedAt === null ? "" : duration((job.finishedAt ?? now) - job.startedAt);
}

/**
 * What an owner's empty list says: that there are no such jobs ("none"), or only that this
 * page has none left ("none-here") when other pages may hold some: it is a later page, or
 * an Older jobs link follows. Its rows can all leave (deleted, canceled out of a state
 * filter) while thousands of jobs remain; "No jobs yet" there was false. Null: not empty.
 */
export function emptyListNote(rows: number, firstPage: boolean, olderPage: boolean): "none" | "none-here" | null {
  if (rows > 0) return null;
  return firstPage && !olderPage ? "none" : "none-here";
}

// The jobs started from this browser, kept in localStorage. The start form leaves a mark
// in sessionStorage as it posts; the job page the post redirects to claims it, since only
// that page learns the new job's id.
import type { JobSnapshot } from "../protocol";

export interface MyJob {
  id: string;
  type: string;
  createdAt: number;
}

const JOBS_KEY = "live-jobs:mine";
const STARTING_KEY = "live-jobs:starting";
const MAX_JOBS = 20;
/** A mark older than this belongs to a post that never reached its job page. */
const STARTING_TTL_MS = 60_000;

export function loadJobs(): MyJob[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(JOBS_KEY) ?? "[]");
    return Array.isArray(value) ? value.filter(isMyJob) : [];
  } catch {
    // Storage disabled or a corrupt entry: start a fresh list.
    return [];
  }
}

export function saveJobs(jobs: MyJob[]): void {
  try {
    localStorage.setItem(JOBS_KEY, JSON.stringify(jobs.slice(0, MAX_JOBS)));
  } catch {
    // Storage full or disabled: the list is a convenience, the job runs regardless.
  }
}

export function markStarting(): void {
  try {
    sessionStorage.setItem(STARTING_KEY, String(Date.now()));
  } catch {
    // Without sessionStorage the new job is just not listed.
  }
}

/** On a job page: if this tab just posted the start form, remember the job it created. */
export function claimStarted(job: JobSnapshot): void {
  let mark: string | null = null;
  try {
    mark = sessionStorage.getItem(STARTING_KEY);
    sessionStorage.removeItem(STARTING_KEY);
  } catch {
    return;
  }
  if (mark === null || Date.now() - Number(mark) > STARTING_TTL_MS) return;
  const jobs = loadJobs().filter((j) => j.id !== job.id);
  saveJobs([{ id: job.id, type: job.type, createdAt: job.createdAt }, ...jobs]);
}

function isMyJob(value: unknown): value is MyJob {
  const job = value as MyJob | null;
  return typeof job?.id === "string" && typeof job.type === "string" && typeof job.createdAt === "number";
}

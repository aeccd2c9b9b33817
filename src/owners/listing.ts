// What an owner's list shows of a job, from the job's own state.
import { percentDone } from "../lib/job-state";
import type { JobErrorInfo, JobListing, JobState, Progress } from "../protocol";

export interface ListedJob {
  id: string;
  type: string;
  state: JobState;
  tags: string[];
  progress: Progress | null;
  error: JobErrorInfo | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** Long messages are cut: a list row stays small. */
const MAX_LISTED_MESSAGE = 200;

export function listingOf(job: ListedJob): JobListing {
  const message = job.error?.message ?? job.progress?.message ?? null;
  return {
    id: job.id,
    type: job.type,
    state: job.state,
    tags: job.tags,
    percent: percentDone(job.progress, job.state),
    message: message === null ? null : message.slice(0, MAX_LISTED_MESSAGE),
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  };
}

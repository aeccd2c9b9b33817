import type { JobObject } from "./job/job-object";

/** Bindings and vars from wrangler.toml; secrets from `wrangler secret put` or .dev.vars. */
export interface Env {
  JOBS: DurableObjectNamespace<JobObject>;
  JOB_ID_SECRET?: string;
  RETENTION?: string;
  DEFAULT_JOB_TIMEOUT?: string;
  MAX_JOB_TIMEOUT?: string;
  ALARM_BUDGET?: string;
  PROGRESS_WINDOW?: string;
  MAX_EVENTS?: string;
  MAX_BODY_BYTES?: string;
  MAX_SUBSCRIBERS?: string;
}

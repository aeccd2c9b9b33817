import type { Env } from "../env";
import type { JobRpc } from "../job/job-object";

/** Hono's environment: bindings, and the job a /jobs/:id route resolved. */
export type AppEnv = { Bindings: Env; Variables: { jobId: string; job: JobRpc } };

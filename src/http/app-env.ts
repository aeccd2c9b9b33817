import type { AccessConfig } from "../access-config";
import type { Config } from "../config";
import type { Env } from "../env";
import type { JobRpc } from "../job/job-object";
import type { JobRegistry } from "../jobs/registry";
import type { Principal } from "./auth";

/** Hono's environment: bindings, and what middleware resolved for the request. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    types: JobRegistry;
    config: Config;
    access: AccessConfig;
    principal: Principal;
    /** Set on /jobs/:id routes once the id proved genuine. */
    jobId: string;
    job: JobRpc;
  };
};

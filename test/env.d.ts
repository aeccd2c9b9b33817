// `env` from cloudflare:test has the app's bindings, and a service binding to its RPC.
import type { Env as AppEnv } from "../src/env";
import type { JobsApi } from "../src/rpc";

declare global {
  namespace Cloudflare {
    interface Env extends AppEnv {
      JOBS_API: JobsApi;
    }
  }
}

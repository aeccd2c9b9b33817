// `env` from cloudflare:test has the app's bindings.
import type { Env as AppEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends AppEnv {}
  }
}

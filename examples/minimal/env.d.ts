import type { Env as LibraryEnv } from "live-jobs";

declare global {
  namespace Cloudflare {
    interface Env extends LibraryEnv {}
  }
}

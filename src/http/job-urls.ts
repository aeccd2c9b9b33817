import type { Context } from "hono";
import type { JobUrls } from "../protocol";
import type { AppEnv } from "./app-env";
import { ownOrigin } from "./security";

/** A job's URLs, on PUBLIC_ORIGIN when set: never on whatever Host a request claimed. */
export function jobUrls(c: Context<AppEnv>, id: string): JobUrls {
  const self = `${ownOrigin(c)}/jobs/${id}`;
  return {
    self,
    page: self,
    events: `${self}/events`,
    stream: `${self}/stream`,
    sse: `${self}/sse`,
    ws: `${self.replace(/^http/, "ws")}/ws`,
    cancel: `${self}/cancel`,
  };
}

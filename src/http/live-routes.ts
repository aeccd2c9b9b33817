// Live views of a job: WebSocket (passed to the object), SSE and plain text (bridged by
// the Worker). Every one starts with a snapshot and resumes exactly after `since`.
import type { Context, Hono } from "hono";
import type { JobRpc } from "../job/job-object";
import { isTerminal } from "../lib/job-state";
import { streamBody, subscribe } from "../live/bridge";
import { streamFormat, type StreamKind } from "../live/formats";
import type { AppEnv } from "./app-env";
import { ApiError, notFound } from "./errors";

export function registerLiveRoutes(app: Hono<AppEnv>): void {
  app.get("/jobs/:id/ws", async (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError(426, "upgrade_required", "Connect with a WebSocket client (Upgrade: websocket)");
    }
    const response = await c.var.job.fetch(new Request(`https://job/subscribe?since=${readSince(c)}`, c.req.raw));
    if (response.status === 404) throw notFound();
    return response;
  });
  app.get("/jobs/:id/sse", (c) => liveResponse(c, c.var.job, "sse"));
  app.get("/jobs/:id/stream", (c) => liveResponse(c, c.var.job, "text"));
}

/** What a create request asked to follow: SSE by Accept, plain text by `?follow`. */
export function followKind(c: Context): StreamKind | null {
  if (c.req.header("Accept")?.includes("text/event-stream")) return "sse";
  return c.req.query("follow") !== undefined ? "text" : null;
}

export function wantsEventStream(c: Context): boolean {
  return c.req.header("Accept")?.includes("text/event-stream") ?? false;
}

/** Resume point: Last-Event-ID (EventSource reconnects) or ?since=N; 0 replays everything. */
export function readSince(c: Context): number {
  const raw = c.req.header("Last-Event-ID") ?? c.req.query("since");
  if (raw === undefined || raw === "") return 0;
  const since = /^\d{1,15}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(since)) throw new ApiError(400, "invalid_query", "since and Last-Event-ID must be a non-negative integer");
  return since;
}

export async function liveResponse(c: Context, job: JobRpc, kind: StreamKind, since = readSince(c), init: ResponseInit = {}): Promise<Response> {
  const subscription = await subscribe(job, since);
  if (subscription instanceof Response) {
    if (subscription.status === 404) throw notFound();
    return subscription;
  }
  const snapshot = await subscription.snapshot();
  if (!snapshot) {
    subscription.close(1000, "no snapshot");
    throw new ApiError(503, "unavailable", "The job's live stream closed before it started; try again");
  }
  // An EventSource reconnecting to a job it saw end gets 204, which stops its retries.
  if (kind === "sse" && isTerminal(snapshot.state) && c.req.header("Last-Event-ID") !== undefined && since >= snapshot.lastSeq) {
    subscription.close(1000, "already seen the end");
    return new Response(null, { status: 204 });
  }
  const format = streamFormat(kind, since);
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(format.headers)) headers.set(name, value);
  return new Response(streamBody(subscription, snapshot, format), { status: init.status ?? 200, headers });
}

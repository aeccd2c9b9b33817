// Live views of a job: WebSocket (passed to the object), SSE and plain text (served by
// the object while the job is busy, else bridged by the Worker). Every one starts with a
// snapshot and resumes exactly after `since`.
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { JobRpc } from "../job/job-object";
import { CLOSE } from "../lib/fanout";
import { continuedBody, streamBody, subscribe } from "../live/bridge";
import { streamFormat, type StreamKind } from "../live/formats";
import { isGoneAnswer } from "../live/hub";
import type { ApiError as ApiErrorBody } from "../protocol";
import { wantsEventStream } from "./accept";
import type { AppEnv } from "./app-env";
import { ApiError, gone } from "./errors";
import { flagParam } from "./query";
import { checkWebSocketOrigin } from "./security";
import { upgradeRefusal } from "./websocket-upgrade";

/** Mounted under /jobs, after the middleware that resolves the job's id. */
export function liveRoutes(): Hono<AppEnv> {
  const live = new Hono<AppEnv>();
  live.get("/:id/ws", async (c) => {
    const refusal = upgradeRefusal(c.req.raw.headers);
    if (refusal) throw refusal;
    checkWebSocketOrigin(c);
    const query = new URLSearchParams({ since: String(readSince(c)), format: "json", client: clientKey(c) });
    if (flagParam(c, "batch", false)) query.set("batch", "");
    const response = await c.var.job.fetch(new Request(`https://job/subscribe?${query}`, c.req.raw));
    if (response.status !== 101) throw await refusalOf(response);
    // The object's answer has immutable headers; this one takes the security headers.
    return new Response(null, { status: 101, webSocket: response.webSocket });
  });
  live.get("/:id/sse", (c) => liveResponse(c, c.var.job, "sse", { direct: true }));
  live.get("/:id/stream", (c) => liveResponse(c, c.var.job, "text", { direct: true }));
  return live;
}

/** What a create request asked to follow: SSE by Accept, plain text by `?follow`. */
export function followKind(c: Context): StreamKind | null {
  // Read even when Accept decides: a malformed switch is a 400 whichever way the request goes.
  const follow = flagParam(c, "follow", false);
  if (wantsEventStream(c)) return "sse";
  return follow ? "text" : null;
}

/** Resume point: Last-Event-ID (EventSource reconnects) or ?since=N; 0 replays everything. */
function readSince(c: Context): number {
  const raw = c.req.header("Last-Event-ID") ?? c.req.query("since");
  if (raw === undefined || raw === "") return 0;
  // As strict as /events' since: a header's own spaces are gone already (fetch trims header values).
  const since = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(since)) throw new ApiError(400, "invalid_query", "since and Last-Event-ID must be a non-negative integer");
  return since;
}

/** Who a viewer is, for the per-client subscriber limit: an owner by name, anyone else by address. */
export function clientKey(c: Context<AppEnv>): string {
  const principal = c.var.principal;
  return principal.kind === "owner" ? `owner:${principal.owner}` : `ip:${principal.ip}`;
}

/**
 * A live response: bridged, or with `direct` possibly the object's own stream, passed
 * through untouched: SSE for a GET, which an EventSource or our client repeats with its
 * Last-Event-ID when it ends (a create request's SSE follow, which cannot be repeated, is
 * never direct); text always, as the Worker continues it itself (`continuedBody`).
 */
export async function liveResponse(c: Context<AppEnv>, job: JobRpc, kind: StreamKind, options: { since?: number; init?: ResponseInit; direct?: boolean } = {}): Promise<Response> {
  const { since = readSince(c), init = {}, direct = false } = options;
  const format = streamFormat(kind);
  const resume = kind === "sse" && c.req.header("Last-Event-ID") !== undefined;
  const client = clientKey(c);
  // A HEAD (routed here with GET) would hold a subscriber for a body nobody reads: the
  // object answers it as it would the GET (its 204, its subscriber caps' 429), subscribing no one.
  if (c.req.method === "HEAD") {
    const probe = await subscribe(job, { since, format: kind, client, resume, probe: true });
    if (!(probe instanceof Response)) probe.close(CLOSE.normal, "a HEAD"); // an object from before `probe` (a rolling deploy)
    else if (probe.status === 204) return new Response(null, { status: 204 });
    else if (probe.status !== 200) throw await refusalOf(probe);
    return new Response(null, { headers: format.headers });
  }
  const subscription = await subscribe(job, { since, format: kind, client, resume, direct });
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(format.headers)) headers.set(name, value);
  const respond = (body: ReadableStream<Uint8Array> | null) => new Response(body, { status: init.status ?? 200, headers });
  if (subscription instanceof Response) {
    if (subscription.status === 200 && direct) return respond(kind === "text" ? continuedBody(job, subscription, client, format) : subscription.body);
    // An EventSource reconnecting to a job it saw end: 204 stops its retries.
    if (subscription.status === 204) return new Response(null, { status: 204 });
    throw await refusalOf(subscription);
  }
  const snapshot = await subscription.first();
  if (!snapshot) {
    subscription.close(CLOSE.normal, "no snapshot");
    throw new ApiError(503, "unavailable", "The job's live stream closed before it started; try again");
  }
  return respond(streamBody(subscription, snapshot, format));
}

/** The object's refusal (no job, too many subscribers) as this app's error; a gone job as the hub takes one. */
async function refusalOf(response: Response): Promise<ApiError> {
  if (isGoneAnswer(response.status)) return gone();
  const body = (await response.json().catch(() => null)) as Partial<ApiErrorBody> | null;
  const status = (response.status >= 400 && response.status < 600 ? response.status : 502) as ContentfulStatusCode;
  const retryAfter = response.headers.get("Retry-After");
  return new ApiError(status, body?.error?.code ?? "refused", body?.error?.message ?? "The job refused the connection", undefined, retryAfter ? { "Retry-After": retryAfter } : undefined);
}

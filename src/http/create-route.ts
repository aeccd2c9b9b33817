// POST /jobs: parse and validate, create (src/service/create.ts), and answer: 201 with
// the control token, 303 to the page for a browser form, or a live stream.
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { setCookie } from "hono/cookie";
import type { CreatedJob } from "../protocol";
import { CreateCutOff, createJobAs, jobStub, type Deployment } from "../service/create";
import type { AppEnv } from "./app-env";
import { type Principal, unauthorized } from "./auth";
import { readJobRequest, type JobRequest } from "./create-request";
import { ApiError } from "./errors";
import type { ScopedKey } from "./job-id";
import { jobUrls } from "./job-urls";
import { CONTROL_COOKIE } from "./jobs-app";
import { followKind, liveResponse } from "./live-routes";

export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The longest life browsers give a cookie (RFC 6265bis); Hono refuses (throws) to write a longer Max-Age. */
const MAX_COOKIE_AGE_S = 400 * 86_400;

/** The key as given, if it is one; a 400 otherwise. */
export function checkIdempotencyKey(key: string): string {
  if (!IDEMPOTENCY_KEY.test(key)) throw new ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 visible ASCII characters");
  return key;
}

/**
 * Refuses a body over MAX_BODY_BYTES before any of it is parsed: every route's, not only
 * a create's (sign-in, sign-out, cancel and run again read their forms too, and the
 * session's CSRF check reads a form before any route does).
 */
export const limitBody: MiddlewareHandler<AppEnv> = (c, next) => {
  const maxSize = c.var.config.maxBodyBytes;
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError(413, "body_too_large", `The body may be at most ${maxSize} bytes`);
    },
  })(c, next);
};

export async function createJob(c: Context<AppEnv>): Promise<Response> {
  return submitJob(c, await readJobRequest(c, c.var.types));
}

/** Creates a job from a validated request (a create, or a run again) and answers for it. */
export async function submitJob(c: Context<AppEnv>, request: JobRequest): Promise<Response> {
  const { principal } = c.var;
  // Read before the job is made: a refused `?follow` must not leave a job behind.
  const follow = followKind(c);
  const job = await createJobAs(deploymentOf(c), principal, request, readIdempotencyKey(c, principal)).catch((error: unknown) => {
    // Cut off, the job may be made: a browser cannot read the 503's Control-Token header, so
    // its right to cancel comes as the cookie the 303 would have set, with the error page.
    if (request.fromForm && error instanceof CreateCutOff && error.mayHaveMade) keepControl(c, error.mayHaveMade);
    throw error;
  });
  const urls = jobUrls(c, job.id);
  if (request.fromForm) {
    if (job.controlToken) keepControl(c, { id: job.id, controlToken: job.controlToken, timeoutMs: job.timeoutMs });
    return c.redirect(urls.page, 303);
  }
  const status = job.created ? 201 : 200;
  const headers: Record<string, string> = { Location: urls.self };
  // The token is handed out once, with the 201; a retried create does not repeat it.
  if (job.controlToken) headers["Control-Token"] = job.controlToken;
  if (follow) return liveResponse(c, jobStub(c.env, job.id), follow, { since: 0, init: { status, headers }, direct: follow === "text" });
  const body: CreatedJob = { id: job.id, state: job.snapshot.state, urls, ...(job.controlToken ? { controlToken: job.controlToken } : {}) };
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.json(body, status);
}

/** A browser keeps the right to cancel in a cookie only its own requests to this job carry. */
function keepControl(c: Context<AppEnv>, job: { id: string; controlToken: string; timeoutMs: number }): void {
  setCookie(c, CONTROL_COOKIE, job.controlToken, {
    path: `/jobs/${job.id}`, httpOnly: true, sameSite: "Strict", secure: jobUrls(c, job.id).self.startsWith("https:"),
    // The job and its link may outlive that (a long RETENTION): the cookie then ends first.
    maxAge: Math.min(MAX_COOKIE_AGE_S, Math.ceil((job.timeoutMs + c.var.config.retentionMs) / 1000)),
  });
}

function deploymentOf(c: Context<AppEnv>): Deployment {
  return { env: c.env, config: c.var.config, access: c.var.access, types: c.var.types };
}

function readIdempotencyKey(c: Context, principal: Principal): ScopedKey | undefined {
  const key = c.req.header("Idempotency-Key")?.trim();
  if (key === undefined) return undefined;
  checkIdempotencyKey(key);
  // Keys are scoped to their owner; strangers have no scope in which a key could be theirs.
  if (principal.kind !== "owner") throw unauthorized("An Idempotency-Key needs credentials: keys are kept per owner");
  return { owner: principal.owner, key };
}

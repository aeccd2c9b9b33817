// One HTTP error type, rendered as { error: { code, message, issues? } } by `onError`.
// Messages and issue lists are bounded and never carry a refused body back.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { clip } from "../lib/clip";
import type { ApiError as ApiErrorBody } from "../protocol";

export type Issue = { path: string; message: string };

/** Longest message and issue list an error answer carries. */
const MAX_ANSWER_CHARS = 300;
const MAX_ISSUES = 20;

export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly issues?: Issue[],
    readonly headers?: Record<string, string>,
  ) {
    super(status, { message });
  }
}

export function errorBody(code: string, message: string, issues?: Issue[]): ApiErrorBody {
  const bounded = issues?.slice(0, MAX_ISSUES).map((issue) => ({ path: clip(issue.path, 100), message: clip(issue.message, 200) }));
  const text = clip(message, MAX_ANSWER_CHARS);
  return { error: bounded ? { code, message: text, issues: bounded } : { code, message: text } };
}

/** Seconds an overloaded Durable Object's caller is asked to wait. */
const OVERLOADED_RETRY_AFTER_S = 10;

export function onError(error: Error, c: Context): Response {
  if (error instanceof ApiError) {
    for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
    return c.json(errorBody(error.code, error.message, error.issues), error.status);
  }
  if (error instanceof HTTPException) {
    // Hono's own middleware (csrf, body limits) throws these with text bodies: answer JSON.
    return c.json(errorBody(codeFor(error.status), messageFor(error.status)), error.status as ContentfulStatusCode);
  }
  // The platform marks a Durable Object that is overloaded, restarting or unreachable
  // (`overloaded`, `retryable`), or that was reset (a crash, a deploy) while it served the
  // request (`durableObjectReset`): the same request may succeed a moment later (a create,
  // which may have made its job, says how to find it: see createJobAs).
  // An overloaded one is asked for longer: retried at once, it stays overloaded (Cloudflare's
  // advice is not to retry it).
  const platform = error as { overloaded?: unknown; retryable?: unknown; durableObjectReset?: unknown };
  if (platform.overloaded === true) {
    c.header("Retry-After", String(OVERLOADED_RETRY_AFTER_S));
    return c.json(errorBody("unavailable", "Overloaded just now; try again in a few seconds"), 503);
  }
  if (platform.retryable === true || platform.durableObjectReset === true) {
    logIfReset(error);
    c.header("Retry-After", "1");
    return c.json(errorBody("unavailable", "Busy or restarting just now; try again in a moment"), 503);
  }
  console.error("unhandled error", error);
  return c.json(errorBody("internal", "Internal error"), 500);
}

/**
 * A reset is a deploy's, or a fault that breaks the object (a failed write, its memory
 * limit), which may be our bug and recur on every retry: logged, as it was as a 500.
 */
export function logIfReset(error: unknown): void {
  if ((error as { durableObjectReset?: unknown } | null)?.durableObjectReset === true) console.error("a Durable Object was reset while it served the request", error);
}

function codeFor(status: number): string {
  return ({ 403: "forbidden", 404: "not_found", 413: "body_too_large" } as Record<number, string>)[status] ?? "bad_request";
}

function messageFor(status: number): string {
  return status === 403 ? "Refused: a form post from another site" : "Request refused";
}

export const notFound = (what = "job") =>
  new ApiError(404, "not_found", `No such ${what}. A job's id is the one returned when it was created.`);

/** A genuine id whose job is gone: deleted, or expired after its retention period. */
export const gone = () =>
  new ApiError(410, "gone", "This job no longer exists: it was deleted, or it expired after its retention period.");

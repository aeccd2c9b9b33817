// One HTTP error type, rendered as { error: { code, message, issues? } } by `onError`.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ApiError as ApiErrorBody } from "../protocol";

export type Issue = { path: string; message: string };

export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly issues?: Issue[],
  ) {
    super(status, { message });
  }
}

export function errorBody(code: string, message: string, issues?: Issue[]): ApiErrorBody {
  return { error: issues ? { code, message, issues } : { code, message } };
}

export function onError(error: Error, c: Context): Response {
  if (error instanceof ApiError) return c.json(errorBody(error.code, error.message, error.issues), error.status);
  if (error instanceof HTTPException) {
    return c.json(errorBody(codeFor(error.status), error.message || "Request refused"), error.status as ContentfulStatusCode);
  }
  console.error("unhandled error", error);
  return c.json(errorBody("internal", "Internal error"), 500);
}

function codeFor(status: number): string {
  return status === 413 ? "body_too_large" : status === 404 ? "not_found" : "bad_request";
}

export const notFound = (what = "job") =>
  new ApiError(404, "not_found", `No such ${what}. A job's id is the one returned when it was created; finished jobs are deleted after their retention period.`);

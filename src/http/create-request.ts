// Parses POST /jobs, from a JSON API client or a browser form, into a validated job
// request. Every failure is an ApiError with the right status; nothing here throws else.
import type { Context } from "hono";
import * as v from "valibot";
import type { Config } from "../config";
import { findJobType, JOB_TYPES } from "../jobs";
import type { Json } from "../protocol";
import { ApiError, type Issue } from "./errors";

export interface JobRequest {
  type: string;
  input: Json;
  timeoutMs: number;
  /** The request came from an HTML form: answer with a redirect. */
  fromForm: boolean;
}

const JSON_TYPE = "application/json";
const FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"];

const envelope = v.strictObject({
  type: v.pipe(v.string(), v.minLength(1, "Expected a job type")),
  input: v.optional(v.unknown()),
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1, "Expected a positive number of milliseconds"))),
});

export async function readJobRequest(c: Context, config: Config): Promise<JobRequest> {
  const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType === JSON_TYPE) return validate(await readJson(c), false, config);
  if (FORM_TYPES.includes(mediaType)) return validate(await readForm(c), true, config);
  throw new ApiError(415, "unsupported_media_type", `Send ${JSON_TYPE} or an HTML form (${FORM_TYPES.join(", ")})`);
}

async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, "invalid_json", `The body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Form fields: `type`, `input` (JSON text, optional) and `timeoutMs` (optional). */
async function readForm(c: Context): Promise<unknown> {
  const form = await c.req.parseBody().catch(() => {
    throw new ApiError(400, "invalid_form", "The form body could not be read");
  });
  const field = (name: string) => (typeof form[name] === "string" ? form[name].trim() : undefined);
  const input = field("input");
  const timeout = field("timeoutMs");
  let parsedInput: unknown = {};
  if (input) {
    try {
      parsedInput = JSON.parse(input);
    } catch (error) {
      throw new ApiError(400, "invalid_json", `The input field is not valid JSON: ${(error as Error).message}`, [
        { path: "input", message: (error as Error).message },
      ]);
    }
  }
  return { type: field("type") ?? "", input: parsedInput, ...(timeout ? { timeoutMs: Number(timeout) } : {}) };
}

async function validate(body: unknown, fromForm: boolean, config: Config): Promise<JobRequest> {
  const parsed = v.safeParse(envelope, body);
  if (!parsed.success) throw new ApiError(400, "invalid_request", "The request body is not a job request", issueList(parsed.issues));
  const { type, input = {}, timeoutMs = config.defaultJobTimeoutMs } = parsed.output;
  const definition = findJobType(type);
  if (!definition) {
    const known = JOB_TYPES.map((d) => d.type).join(", ");
    throw new ApiError(400, "unknown_type", `Unknown job type "${type}". Known types: ${known}`);
  }
  if (timeoutMs > config.maxJobTimeoutMs) {
    throw new ApiError(400, "invalid_request", `timeoutMs may be at most ${config.maxJobTimeoutMs}`);
  }
  const result = await definition.input["~standard"].validate(input);
  if (result.issues) {
    throw new ApiError(400, "invalid_input", `The input does not match the "${type}" job's schema`, issueList(result.issues));
  }
  return { type, input: JSON.parse(JSON.stringify(result.value ?? {})) as Json, timeoutMs, fromForm };
}

/** Issues from any Standard Schema validator (valibot's included) as `path: message` pairs. */
function issueList(issues: readonly { path?: readonly (PropertyKey | { key: unknown })[] | undefined; message: string }[]): Issue[] {
  return issues.map((issue) => ({
    path: (issue.path ?? []).map((segment) => String(typeof segment === "object" ? segment.key : segment)).join("."),
    message: issue.message,
  }));
}

/** A stable hash of what the request asks for, to tell a retry from a reused key. */
export async function fingerprint(request: JobRequest): Promise<string> {
  const text = JSON.stringify([request.type, request.input, request.timeoutMs]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

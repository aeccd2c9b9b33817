// Parses POST /jobs, from a JSON API client or a browser form, into a validated job
// request. Every failure is an ApiError with the right status; nothing here throws else,
// and no message repeats what the client sent.
import type { Context } from "hono";
import * as v from "valibot";
import type { AnyJobDefinition } from "../jobs/define";
import type { JobRegistry } from "../jobs/registry";
import { sha256, toHex } from "../lib/crypto";
import type { Json } from "../protocol";
import { ApiError, type Issue } from "./errors";

export interface JobRequest {
  type: string;
  definition: AnyJobDefinition;
  input: Json;
  /** As asked; the default and the budget's ceiling apply in create-route.ts. */
  timeoutMs?: number;
  /** Distinct, in the order given. */
  tags: string[];
  /** Where to POST the completion webhook; checked against WEBHOOK_ORIGINS in service/create.ts. */
  webhookUrl: string | null;
  /** The request came from an HTML form: answer with a redirect. */
  fromForm: boolean;
}

const JSON_TYPE = "application/json";
const FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"];

/** Tags: at most MAX_TAGS, each 1 to 40 letters, digits or `_ . : @ -`. */
export const MAX_TAGS = 10;
export const TAG_PATTERN = /^[\w.:@-]{1,40}$/;

export const envelope = v.strictObject({
  type: v.pipe(v.string(), v.minLength(1, "Expected a job type"), v.maxLength(100, "Expected a job type")),
  input: v.optional(v.unknown()),
  // The cap (about 285,000 years) only keeps a refusal from quoting a 300-digit number; the budget's runTime is the real limit.
  timeoutMs: v.optional(v.pipe(v.number("Expected a number of milliseconds"), v.safeInteger("Expected a whole number of milliseconds"), v.minValue(1, "Expected a positive number of milliseconds"))),
  webhook: v.optional(v.strictObject({ url: v.pipe(v.string(), v.maxLength(2048, "Expected a URL of at most 2048 characters"), v.url("Expected a URL")) })),
  tags: v.optional(v.pipe(
    v.array(v.pipe(v.string(), v.regex(TAG_PATTERN, "Expected a tag of 1 to 40 letters, digits or _ . : @ -"))),
    v.maxLength(MAX_TAGS, `Expected at most ${MAX_TAGS} tags`),
  ), []),
});

export async function readJobRequest(c: Context, types: JobRegistry): Promise<JobRequest> {
  // A compressed body is not decoded here: refused as such, not as JSON that does not parse.
  const encoding = (c.req.header("Content-Encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity") throw new ApiError(415, "unsupported_media_type", "Send the body uncompressed (no Content-Encoding)");
  const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType === JSON_TYPE) return validate(await readJson(c), false, types);
  if (FORM_TYPES.includes(mediaType)) return validate(await readForm(c), true, types);
  throw new ApiError(415, "unsupported_media_type", `Send ${JSON_TYPE} or an HTML form (${FORM_TYPES.join(", ")})`);
}

/** JSON.parse's messages quote the text around the error, so they are never passed on. */
function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", `${what} is not valid JSON`, [{ path: what === "The body" ? "" : "input", message: "Not valid JSON" }]);
  }
}

async function readJson(c: Context): Promise<unknown> {
  return parseJson(await c.req.text(), "The body");
}

/** Form fields: `type`, `input` (JSON text, optional), `timeoutMs` and `tags` (comma-separated), both optional. */
async function readForm(c: Context): Promise<unknown> {
  const form = await c.req.parseBody().catch(() => {
    throw new ApiError(400, "invalid_form", "The form body could not be read");
  });
  const field = (name: string) => (typeof form[name] === "string" ? form[name].trim() : undefined);
  const input = field("input");
  const timeout = field("timeoutMs");
  const tags = field("tags")?.split(",").map((tag) => tag.trim()).filter(Boolean);
  return {
    type: field("type") ?? "", input: input ? parseJson(input, "The input field") : {},
    // A plain decimal, so the envelope says what is wrong with it (negative, fractional);
    // Number() would read "0x10" as 16 ms and "1e3" as 1,000: anything else stays text, refused.
    ...(timeout ? { timeoutMs: /^-?\d{1,15}(\.\d{1,15})?$/.test(timeout) ? Number(timeout) : timeout } : {}), ...(tags?.length ? { tags } : {}),
  };
}

/** A job request from any parsed body (JSON, a form, an RPC call): the envelope, the type, its input. */
export async function validate(body: unknown, fromForm: boolean, types: JobRegistry): Promise<JobRequest> {
  const parsed = v.safeParse(envelope, body);
  if (!parsed.success) throw new ApiError(400, "invalid_request", "The request body is not a job request", issueList(parsed.issues));
  const { type, input = {}, timeoutMs, tags, webhook } = parsed.output;
  const definition = types.find(type);
  if (!definition) {
    // Not a list of every type: /job-types shows each caller only what it may create.
    throw new ApiError(400, "unknown_type", "Unknown job type; GET /job-types lists the ones you may create");
  }
  const listAt = listForObject(definition.inputJsonSchema, input, []);
  const result = listAt ? { issues: [{ path: listAt, message: "Expected an object" }] } : await definition.input["~standard"].validate(input);
  if (result.issues) {
    throw new ApiError(400, "invalid_input", `The input does not match the "${type}" job's schema`, issueList(result.issues));
  }
  return { type, definition, input: JSON.parse(JSON.stringify(result.value ?? {})) as Json, timeoutMs, tags: [...new Set(tags)], webhookUrl: webhook?.url ?? null, fromForm };
}

/**
 * valibot's object schemas take a list as an object (`[]` passed an all-optional one, and a
 * loose one read `[1]` as `{"0": 1}`), at the top of an input or inside it (ticker's
 * `then: [[]]` was a phase of defaults), so a list is refused where the type's JSON Schema
 * says an object: the path to the first such list, following `properties` and `items` (a
 * union, anyOf, is left to the validator), or null.
 */
function listForObject(schema: Json | undefined, value: unknown, path: string[]): string[] | null {
  if (!isRecord(schema)) return null;
  if (Array.isArray(value)) {
    if (schema.type === "object") return path;
    for (const [i, item] of value.entries()) {
      const found = listForObject(schema.items, item, [...path, String(i)]);
      if (found) return found;
    }
    return null;
  }
  if (!isRecord(value) || !isRecord(schema.properties)) return null;
  for (const [key, property] of Object.entries(schema.properties)) {
    const found = Object.hasOwn(value, key) ? listForObject(property, value[key], [...path, key]) : null;
    if (found) return found;
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Issues from any Standard Schema validator (valibot's included) as `path: message` pairs (the answer bounds them). */
function issueList(issues: readonly { path?: readonly (PropertyKey | { key: unknown })[] | undefined; message: string }[]): Issue[] {
  return issues.map((issue) => ({
    path: (issue.path ?? []).map((segment) => String(typeof segment === "object" ? segment.key : segment)).join("."),
    message: issueMessage(issue.message),
  }));
}

/**
 * What was expected, never what was sent: valibot's "… but received <the input>" and
 * "Invalid X: Received <the input>" go, and its "Invalid key" says what it means (the
 * issue's path names the field): a key a strict schema expects never is unknown, any
 * other is missing.
 */
export function issueMessage(message: string): string {
  if (message.startsWith("Invalid key:")) return message.startsWith("Invalid key: Expected never") ? "Unknown field" : "Required";
  return message.replace(/(?:,? but r|:\s*R)eceived [\s\S]*$/, "");
}

/** A stable hash of what the request asks for, to tell a retry from a reused key. */
export async function fingerprint(request: JobRequest): Promise<string> {
  return toHex(await sha256(JSON.stringify([request.type, request.input, request.timeoutMs, request.tags, request.webhookUrl])));
}

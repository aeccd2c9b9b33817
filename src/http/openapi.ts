// The OpenAPI 3.1 document at /openapi.json. Requests are described by the same schemas
// the routes validate with: the create envelope (valibot, as JSON Schema) and each job
// type's input schema. Answers follow src/protocol.ts; test/e2e/openapi.test.ts checks
// real requests and answers against this document.
import { jsonSchemaOf } from "../lib/json-schema";
import type { AnyJobDefinition } from "../jobs/define";
import type { JobRegistry } from "../jobs/registry";
import type { Json } from "../protocol";
import { envelope } from "./create-request";
import { IDEMPOTENCY_KEY } from "./create-route";
import { JOB_STATES, STEP_STATES } from "../lib/job-state";
import { MAX_STEP_PAGE } from "../job/steps";
import { MAX_EVENT_PAGE } from "./jobs-app";
import { MAX_LIST_LIMIT } from "./list-route";

type Schema = Record<string, Json>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: Schema): Schema => ({ oneOf: [schema, { type: "null" }] });
const object = (properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema => ({ type: "object", properties, required });
const integer: Schema = { type: "integer" };
const string: Schema = { type: "string" };

/** JSON Schema as OpenAPI 3.1 takes it: the draft-07 `$schema` marker goes. */
function plain(schema: Json): Schema {
  const { $schema: _marker, ...rest } = schema as Schema;
  return rest;
}

const counts: Schema = object(Object.fromEntries(JOB_STATES.map((state) => [state, integer])));
const step: Schema = object({
  position: integer, name: string, state: { enum: [...STEP_STATES] }, attempts: integer,
  startedAt: nullable(integer), finishedAt: nullable(integer), until: nullable(integer), error: nullable(string),
});
const jobError: Schema = object({ code: string, message: string, name: string, step: string, limit: { enum: ["steps", "events", "bytes", "runTimeMs"] } }, ["code", "message"]);
const budget: Schema = object({ steps: integer, events: integer, bytes: integer, runTimeMs: integer });
const event: Schema = object({ seq: integer, at: integer, type: { enum: ["state", "step", "progress", "log", "result", "error", "webhook"] }, data: {} });

const SCHEMAS: Record<string, Schema> = {
  ApiError: object({ error: object({ code: string, message: string, issues: { type: "array", items: object({ path: string, message: string }) } }, ["code", "message"]) }),
  CreatedJob: object({
    id: string, state: { enum: [...JOB_STATES] }, controlToken: string,
    urls: object({ self: string, page: string, events: string, stream: string, sse: string, ws: string, cancel: string }),
  }, ["id", "state", "urls"]),
  JobEvent: event,
  JobSnapshot: object({
    id: string, type: string, tags: { type: "array", items: string }, state: { enum: [...JOB_STATES] }, input: {},
    progress: nullable(object({ ratio: { type: "number" }, current: { type: "number" }, total: { type: "number" }, message: string }, [])),
    steps: object({ total: integer, counts: object(Object.fromEntries(STEP_STATES.map((s) => [s, integer]))), retries: integer, current: nullable(step), recent: { type: "array", items: step }, failed: { type: "array", items: step } }),
    result: {}, error: nullable(jobError),
    createdAt: integer, startedAt: nullable(integer), finishedAt: nullable(integer), deadlineAt: integer, expiresAt: nullable(integer),
    lastSeq: integer, budget, viewers: integer,
    webhook: nullable(object({ url: { ...string, description: "Shown to the job's owner only" }, state: { enum: ["pending", "delivered", "failed"] }, attempts: integer }, ["state", "attempts"])),
    usage: object({ rowsWritten: integer, alarms: integer, requests: integer, messages: integer, awakeMs: integer }),
  }, ["id", "type", "tags", "state", "input", "progress", "steps", "result", "error", "createdAt", "startedAt", "finishedAt", "deadlineAt", "expiresAt", "lastSeq", "budget", "viewers", "webhook"]),
  EventPage: object({ events: { type: "array", items: event }, nextSince: integer, lastSeq: integer, done: { type: "boolean" } }),
  StepPage: object({ steps: { type: "array", items: step }, next: nullable(integer), total: integer }),
  JobList: object({
    jobs: { type: "array", items: object({
      id: string, type: string, state: { enum: [...JOB_STATES] }, tags: { type: "array", items: string }, percent: nullable(integer), message: nullable(string),
      createdAt: integer, startedAt: nullable(integer), finishedAt: nullable(integer),
    }) },
    next: nullable(string), counts, feed: string,
  }),
  JobTypes: object({ types: { type: "array", items: object({ type: string, description: string, inputSchema: {}, example: {} }) } }),
};

const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [String(status), { $ref: `#/components/responses/Error` }]));
const json = (schema: Schema, description: string) => ({ description, content: { "application/json": { schema } } });
const idParam = { name: "id", in: "path", required: true, schema: { type: "string", pattern: "^[A-Za-z0-9_-]{32}$" } };
const query = (name: string, schema: Schema) => ({ name, in: "query", required: false, schema });
const lastEventId = { name: "Last-Event-ID", in: "header", required: false, schema: string };
/** A create's answer: the job as JSON, or, asked to follow (`?follow`, or Accept: text/event-stream), its live stream. */
const created = (description: string) => ({
  description: `${description}; with ?follow (text) or Accept: text/event-stream (SSE), the job's live stream instead`,
  headers: { Location: { schema: string }, "Control-Token": { schema: string, description: "The job's control token: only in a 201, the only place it is when the body is a stream" } },
  content: { "application/json": { schema: ref("CreatedJob") }, "text/event-stream": { schema: string }, "text/plain": { schema: string } },
});
const stream = (description: string) => ({ description, content: { "text/event-stream": { schema: string }, "text/plain": { schema: string } } });

/** The document at `origin`, with the job types a caller may create (`include`, as GET /job-types lists them). */
export function openApiDocument(types: JobRegistry, origin: string, include: (definition: AnyJobDefinition) => boolean): Json {
  const { input: _input, ...envelopeProperties } = (plain(jsonSchemaOf(envelope)) as { properties: Schema }).properties;
  const creatable = types.definitions.filter(include).map((d) => ({
    type: "object", additionalProperties: false, required: ["type"],
    properties: { ...envelopeProperties, type: { const: d.type }, input: plain(d.inputJsonSchema) },
    description: d.description,
  }));
  // A caller who may create no type (an anonymous one where PUBLIC_JOB_TYPES is empty) gets
  // a schema nothing matches: an empty oneOf is no JSON Schema at all (it must have an item).
  const createRequest = (creatable.length
    ? { oneOf: creatable, discriminator: { propertyName: "type" } }
    : { not: {}, description: "No job type these credentials may create" }) as unknown as Schema;
  const document = {
    openapi: "3.1.0",
    info: { title: "Live jobs", version: "1.0.0", description: "Live background jobs on Durable Objects: create, watch, control and list jobs." },
    servers: [{ url: origin }],
    security: [{}, { bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An owner token from API_TOKENS, or an HS256 JWT from the deployer's backend" },
        controlToken: { type: "apiKey", in: "header", name: "Control-Token", description: "The job's control token, from the 201 that created it" },
        session: { type: "apiKey", in: "cookie", name: "session", description: "The dashboard's session (named __Host-session on https); changes also need X-CSRF-Token" },
      },
      schemas: { ...SCHEMAS, CreateJobRequest: createRequest },
      responses: { Error: json(ref("ApiError"), "A refusal: {error: {code, message, issues?}}") },
    },
    paths: {
      "/health": { get: { summary: "Whether the deployment is configured", responses: { 200: json(object({ ok: { const: true } }), "OK"), 503: json(object({ ok: { const: false }, problems: { type: "array", items: string } }), "Misconfigured") } } },
      "/job-types": { get: { summary: "The job types the caller may create", responses: { 200: json(ref("JobTypes"), "Types"), ...errors(401) } } },
      "/openapi.json": { get: { summary: "This document", responses: { 200: json({ type: "object" }, "OpenAPI 3.1") } } },
      "/jobs": {
        post: {
          summary: "Create a job",
          parameters: [{ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", pattern: IDEMPOTENCY_KEY.source } }, query("follow", string)],
          requestBody: { required: true, content: { "application/json": { schema: ref("CreateJobRequest") }, "application/x-www-form-urlencoded": { schema: object({ type: string, input: string, timeoutMs: string, tags: string }, ["type"]) } } },
          responses: { 201: created("Created"), 200: created("An idempotent retry: the job made before"), 303: { description: "A form post: to the job's page" }, ...errors(400, 401, 403, 409, 413, 415, 429, 503) },
        },
        get: {
          summary: "The caller's jobs, newest first",
          security: [{ bearer: [] }, { session: [] }],
          parameters: [query("state", { enum: [...JOB_STATES] }), query("type", string), query("tag", string), query("limit", { type: "integer", minimum: 1, maximum: MAX_LIST_LIMIT }), query("cursor", string)],
          responses: { 200: json(ref("JobList"), "A page of jobs"), ...errors(400, 401, 503) },
        },
      },
      "/jobs/{id}": {
        parameters: [idParam],
        get: { summary: "A job's snapshot (usage for its owner); an HTML page for browsers", responses: { 200: json(ref("JobSnapshot"), "The job"), ...errors(404, 410) } },
        delete: { summary: "Erase the job", security: [{ bearer: [] }, { controlToken: [] }, { session: [] }], responses: { 204: { description: "Erased" }, ...errors(401, 403, 404, 410, 503) } },
      },
      "/jobs/{id}/cancel": { parameters: [idParam], post: { summary: "Cancel the job", security: [{ bearer: [] }, { controlToken: [] }, { session: [] }], responses: { 200: json(ref("JobSnapshot"), "Canceled"), 303: { description: "A form post: back to its page" }, ...errors(401, 403, 404, 409, 410) } } },
      "/jobs/{id}/rerun": { parameters: [idParam], post: { summary: "Run again: same type, input and tags", security: [{ bearer: [] }, { session: [] }], responses: { 201: json(ref("CreatedJob"), "Created"), ...errors(401, 403, 404, 409, 410, 429) } } },
      "/jobs/{id}/events": { parameters: [idParam], get: { summary: "The event log, a page at a time (SSE with Accept: text/event-stream)", parameters: [query("since", { type: "integer", minimum: 0 }), query("limit", { type: "integer", minimum: 1, maximum: MAX_EVENT_PAGE }), lastEventId], responses: { 200: { description: "Events after `since`: a page of JSON, or with Accept: text/event-stream the live SSE stream", content: { "application/json": { schema: ref("EventPage") }, "text/event-stream": { schema: string } } }, 204: { description: "SSE: already seen to its end" }, ...errors(400, 404, 410, 429) } } },
      "/jobs/{id}/steps": { parameters: [idParam], get: { summary: "Every step, a page at a time", parameters: [query("after", { type: "integer", minimum: -1 }), query("limit", { type: "integer", minimum: 1, maximum: MAX_STEP_PAGE })], responses: { 200: json(ref("StepPage"), "Steps after position `after`"), ...errors(400, 404, 410) } } },
      "/jobs/{id}/sse": { parameters: [idParam], get: { summary: "Live: Server-Sent Events", parameters: [query("since", integer), lastEventId], responses: { 200: stream("Snapshot, history, live events"), 204: { description: "Already seen to its end" }, ...errors(400, 404, 410, 429) } } },
      "/jobs/{id}/stream": { parameters: [idParam], get: { summary: "Live: plain text for terminals", parameters: [query("since", integer)], responses: { 200: stream("One line per event"), ...errors(400, 404, 410, 429) } } },
      "/jobs/{id}/ws": { parameters: [idParam], get: { summary: "Live: WebSocket (see the README for frames and acknowledgements)", parameters: [query("since", integer), query("batch", string)], responses: { 101: { description: "Upgraded" }, ...errors(400, 403, 404, 410, 426, 429) } } },
      "/live/ws": { get: { summary: "Many jobs on one WebSocket", parameters: [query("batch", string)], responses: { 101: { description: "Upgraded" }, ...errors(400, 403, 426) } } },
      "/live/sse": { get: { summary: "Several jobs on one SSE response", parameters: [{ ...query("sources", string), required: true }, query("since", string), lastEventId], responses: { 200: stream("Every source's frames, tagged"), 204: { description: "Every source already seen to its end" }, ...errors(400, 410, 429) } } },
      "/feed/sse": { get: { summary: "The owner feed: every change to the caller's jobs", security: [{ bearer: [] }, { session: [] }], parameters: [query("since", string), lastEventId], responses: { 200: stream("Feed entries"), ...errors(400, 401, 429, 503) } } },
      "/feed/ws": { get: { summary: "The owner feed over a WebSocket", security: [{ bearer: [] }, { session: [] }], parameters: [query("since", string), query("batch", string)], responses: { 101: { description: "Upgraded" }, ...errors(400, 401, 403, 426) } } },
    },
  };
  for (const [path, item] of Object.entries(document.paths) as [string, Record<string, { responses?: Record<string, unknown>; operationId?: string }>][]) {
    for (const [method, operation] of Object.entries(item)) {
      if (!operation.responses) continue; // the path's own parameters
      // Wrong credentials are a 401 on every route, even one that needs none (README "Security").
      operation.responses["401"] ??= errors(401)["401"];
      // A deployment with weak or missing secrets serves no job routes (/health says why).
      if (/^\/(jobs|live|feed)(\/|$)/.test(path)) operation.responses["503"] ??= errors(503)["503"];
      // What code generators name their functions by.
      operation.operationId = OPERATION_IDS[`${method} ${path}`];
    }
  }
  return document as unknown as Json;
}

const OPERATION_IDS: Record<string, string> = {
  "get /health": "health", "get /job-types": "listJobTypes", "get /openapi.json": "openApi",
  "post /jobs": "createJob", "get /jobs": "listJobs", "get /jobs/{id}": "getJob", "delete /jobs/{id}": "deleteJob",
  "post /jobs/{id}/cancel": "cancelJob", "post /jobs/{id}/rerun": "rerunJob", "get /jobs/{id}/events": "listEvents",
  "get /jobs/{id}/steps": "listSteps", "get /jobs/{id}/sse": "followJobSse", "get /jobs/{id}/stream": "followJobText",
  "get /jobs/{id}/ws": "followJobWebSocket", "get /live/ws": "followJobsWebSocket", "get /live/sse": "followJobsSse",
  "get /feed/sse": "followFeedSse", "get /feed/ws": "followFeedWebSocket",
};

// The document's create request lists the types its caller may create; one who may create
// none still gets a valid document (JSON Schema 2020-12: a oneOf must have an item).
import Ajv2020 from "ajv/dist/2020.js";
import { expect, it } from "vitest";
import { JOB_TYPES } from "../../app/jobs";
import { openApiDocument } from "../../src/http/openapi";
import { JobRegistry } from "../../src/jobs/registry";

const createRequest = (include: (definition: { type: string }) => boolean) =>
  (openApiDocument(new JobRegistry(JOB_TYPES), "https://jobs.example", include) as { components: { schemas: { CreateJobRequest: object } } }).components.schemas.CreateJobRequest;

it("is a valid schema whatever the caller may create, matching no request when it may create nothing", () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  for (const include of [() => true, (d: { type: string }) => d.type === "echo", () => false]) {
    const schema = createRequest(include);
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
  }
  const none = new Ajv2020({ strict: false }).compile(createRequest(() => false));
  expect(none({ type: "echo", input: { lines: ["a"] } })).toBe(false);
});

it("declares what every route answers: 401 for wrong credentials, 410 for /live/sse of jobs that are all gone", () => {
  const doc = openApiDocument(new JobRegistry(JOB_TYPES), "https://jobs.example", () => true) as unknown as {
    paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  };
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).flatMap(([method, operation]) => (operation.responses ? [[`${method} ${path}`, operation.responses] as const] : [])));
  expect(operations.filter(([, responses]) => !responses["401"]).map(([name]) => name)).toEqual([]);
  // Every operation is named for code generators, each name once.
  const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).flatMap((operation) => (operation.responses ? [(operation as { operationId?: string }).operationId] : [])));
  expect(ids.length).toBe(operations.length);
  expect(ids.every((id) => typeof id === "string" && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
  expect(new Set(ids).size).toBe(ids.length);
  expect(doc.paths["/live/sse"]!.get!.responses!["410"]).toBeDefined();
});

it("declares what a client following the document needs to resume and to control a followed create: streams, Control-Token, Last-Event-ID, /feed/ws since", () => {
  type Operation = { parameters?: { name: string; in: string }[]; responses: Record<string, { content?: object; headers?: object }> };
  const doc = openApiDocument(new JobRegistry(JOB_TYPES), "https://jobs.example", () => true) as unknown as { paths: Record<string, Record<string, Operation>> };
  // POST /jobs?follow answers the job's stream, its control token only in a header.
  for (const status of ["201", "200"]) {
    expect(Object.keys(doc.paths["/jobs"]!.post!.responses[status]!.content!)).toEqual(["application/json", "text/event-stream", "text/plain"]);
  }
  expect(Object.keys(doc.paths["/jobs"]!.post!.responses["201"]!.headers!)).toEqual(["Location", "Control-Token"]);
  const parameters = (path: string) => (doc.paths[path]!.get!.parameters ?? []).map((p) => `${p.in}:${p.name}`);
  for (const path of ["/jobs/{id}/events", "/jobs/{id}/sse", "/live/sse", "/feed/sse"]) expect(parameters(path), path).toContain("header:Last-Event-ID");
  expect(parameters("/feed/ws")).toContain("query:since");
});

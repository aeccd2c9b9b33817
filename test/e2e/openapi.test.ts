// /openapi.json describes the API as it answers: real requests and answers from `wrangler
// dev` are checked against the document (JSON Schema 2020-12, with ajv).
import Ajv2020 from "ajv/dist/2020.js";
import { beforeAll, expect, inject, it } from "vitest";
import type { CreatedJob } from "../../src/protocol";
import { E2E_TOKEN } from "./wrangler-dev";

const baseUrl = inject("baseUrl");
const auth = { Authorization: `Bearer ${E2E_TOKEN}` };

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
let doc: Doc;
const ajv = new Ajv2020({ strict: false, allErrors: true });

beforeAll(async () => {
  const response = await fetch(`${baseUrl}/openapi.json`, { headers: auth });
  expect(response.status).toBe(200);
  doc = (await response.json()) as Doc;
  ajv.addSchema(doc, "openapi");
});

const pointer = (...parts: string[]) => parts.map((part) => part.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

function check(schemaPath: string, value: unknown): void {
  const validate = ajv.compile({ $ref: `openapi#/${schemaPath}` });
  expect(validate(value), `${schemaPath}: ${ajv.errorsText(validate.errors)}`).toBe(true);
}

/** A real answer, checked against its path, method and status in the document. */
async function answer(path: string, method: string, response: Response): Promise<unknown> {
  const status = String(response.status);
  const declared = doc.paths[path]?.[method]?.responses[status];
  expect(declared, `${method.toUpperCase()} ${path} does not declare ${status}`).toBeDefined();
  const type = response.headers.get("Content-Type")?.split(";")[0] ?? "";
  if (response.status !== 204 && type !== "application/json") {
    // A stream: its media type is declared; its body is not JSON.
    expect(Object.keys((declared as { content?: object }).content ?? {}), `${method.toUpperCase()} ${path} ${status} as ${type}`).toContain(type);
    await response.body?.cancel();
    return null;
  }
  const body = response.status === 204 ? null : await response.json();
  if (body !== null) {
    const ref = (declared as { $ref?: string }).$ref;
    check(ref ? "components/responses/Error/content/application~1json/schema" : pointer("paths", path, method, "responses", status, "content", "application/json", "schema"), body);
  }
  return body;
}

const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
  fetch(`${baseUrl}${path}`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });

const typesIn = (document: unknown) =>
  (document as { components: { schemas: { CreateJobRequest: { oneOf: { properties: { type: { const: string } } }[] } } } }).components.schemas.CreateJobRequest.oneOf.map((s) => s.properties.type.const);

it("is an OpenAPI 3.1 document with the input of each job type the caller may create", async () => {
  expect(doc.openapi).toBe("3.1.0");
  expect(typesIn(doc)).toEqual(["demo", "primes", "flaky", "sleepy", "echo", "ticker"]);
  // A visitor's copy leaves out the owners-only types, as GET /job-types does.
  const anonymous = await (await fetch(`${baseUrl}/openapi.json`)).json();
  expect(typesIn(anonymous)).toEqual(["demo", "primes", "flaky", "sleepy", "echo"]);
});

it("describes real requests and answers: create, read, events, steps, list, cancel, refusals", async () => {
  const request = { type: "echo", input: { lines: ["a", "b"], delayMs: 0 }, tags: ["openapi"] };
  check("components/schemas/CreateJobRequest", request);
  const created = (await answer("/jobs", "post", await post("/jobs", request))) as CreatedJob;
  await expect.poll(async () => ((await (await fetch(created.urls.self)).json()) as { state: string }).state, { timeout: 20_000 }).toBe("succeeded");
  await answer("/jobs/{id}", "get", await fetch(created.urls.self, { headers: auth }));
  await answer("/jobs/{id}", "get", await fetch(created.urls.self));
  const { lastSeq } = (await answer("/jobs/{id}/events", "get", await fetch(`${created.urls.events}?limit=1000`))) as { lastSeq: number };
  const sse = { Accept: "text/event-stream" };
  await answer("/jobs/{id}/events", "get", await fetch(created.urls.events, { headers: sse }));
  await answer("/jobs/{id}/events", "get", await fetch(created.urls.events, { headers: { ...sse, "Last-Event-ID": String(lastSeq) } })); // 204
  await answer("/jobs/{id}/steps", "get", await fetch(`${created.urls.self}/steps`));
  await answer("/jobs", "get", await fetch(`${baseUrl}/jobs?tag=openapi`, { headers: auth }));
  await answer("/job-types", "get", await fetch(`${baseUrl}/job-types`, { headers: auth }));
  await answer("/health", "get", await fetch(`${baseUrl}/health`));

  const sleeper = (await answer("/jobs", "post", await post("/jobs", { type: "sleepy", input: { duration: "1 minute" } }))) as CreatedJob;
  await answer("/jobs/{id}/cancel", "post", await fetch(sleeper.urls.cancel, { method: "POST", headers: auth }));
  await answer("/jobs/{id}/cancel", "post", await fetch(sleeper.urls.cancel, { method: "POST", headers: auth })); // 409
  await answer("/jobs/{id}", "delete", await fetch(sleeper.urls.self, { method: "DELETE", headers: auth }));
  await answer("/jobs/{id}", "get", await fetch(sleeper.urls.self)); // 410
  await answer("/live/sse", "get", await fetch(`${baseUrl}/live/sse?sources=${sleeper.id}`)); // 410: every source is gone
  await answer("/jobs/{id}", "get", await fetch(created.urls.self, { headers: { Authorization: "Bearer not-a-token-of-this-deployment" } })); // 401
  await answer("/jobs/{id}/cancel", "post", await fetch(created.urls.cancel, { method: "POST" })); // 401

  // A request the document refuses is one the API refuses too.
  const unknownField = { type: "flaky", input: { fatal2: true } };
  expect(ajv.compile({ $ref: "openapi#/components/schemas/CreateJobRequest" })(unknownField)).toBe(false);
  await answer("/jobs", "post", await post("/jobs", unknownField)); // 400
  await answer("/jobs", "get", await fetch(`${baseUrl}/jobs`)); // 401
});

// The client's types follow a job from its create to its result: `result(job)` of a
// created job is that type's result, as the README's `const { primes } = ...` needs.
import { expect, expectTypeOf, it } from "vitest";
import type { JOB_TYPES } from "../../app/jobs";
import type { JobTypesOf } from "../../src/authoring";
import type { CreatedJob } from "../../src/protocol";
import { ApiRequestError, createClient } from "../../src/sdk/client";

it("gives a created job its type, so that its result is typed", async () => {
  const created: CreatedJob = { id: "job-1", state: "queued", urls: {} as CreatedJob["urls"], controlToken: "t" };
  const fetcher = async () => Response.json(created, { status: 201 });
  const jobs = createClient<JobTypesOf<typeof JOB_TYPES>>({ baseUrl: "http://jobs.test", fetch: fetcher as typeof fetch, WebSocket: null });
  const job = await jobs.create("primes", { n: 1_000_000 });
  expect(job).toEqual({ ...created, type: "primes", created: true });
  expectTypeOf(jobs.result(job)).resolves.toEqualTypeOf<{ n: number; primes: number }>();
});

it("tells a new job (201) from the one an Idempotency-Key found again (200)", async () => {
  const { controlToken: _, ...again }: CreatedJob = { id: "job-1", state: "running", urls: {} as CreatedJob["urls"], controlToken: "t" };
  const sent: Headers[] = [];
  const fetcher = async (_url: string, init: RequestInit) => (sent.push(new Headers(init.headers)), Response.json(again, { status: 200 }));
  const jobs = createClient<JobTypesOf<typeof JOB_TYPES>>({ baseUrl: "http://jobs.test", fetch: fetcher as typeof fetch, WebSocket: null });
  const job = await jobs.create("demo", {}, { idempotencyKey: "order-42" });
  expect(job).toEqual({ ...again, type: "demo", created: false });
  expectTypeOf(job.created).toEqualTypeOf<boolean>();
  expect(sent[0]?.get("Idempotency-Key")).toBe("order-42");
});

it("says when a refused request may be tried again (Retry-After)", async () => {
  const answers = [
    Response.json({ error: { code: "rate_limited", message: "Too many creates" } }, { status: 429, headers: { "Retry-After": "60" } }),
    Response.json({ error: { code: "invalid_input", message: "No" } }, { status: 400 }),
  ];
  const jobs = createClient<JobTypesOf<typeof JOB_TYPES>>({ baseUrl: "http://jobs.test", fetch: (async () => answers.shift()!) as typeof fetch, WebSocket: null });
  const limited = await jobs.create("demo", {}).catch((error: unknown) => error);
  expect(limited).toBeInstanceOf(ApiRequestError);
  expect(limited).toMatchObject({ status: 429, code: "rate_limited", retryAfterMs: 60_000 });
  expect(await jobs.create("demo", {}).catch((error: ApiRequestError) => error.retryAfterMs)).toBeUndefined();
});

it("takes no input for a type whose input has no required field, and insists on one that has", async () => {
  const bodies: unknown[] = [];
  const created: CreatedJob = { id: "job-1", state: "queued", urls: {} as CreatedJob["urls"], controlToken: "t" };
  const fetcher = async (_url: string, init: RequestInit) => (bodies.push(JSON.parse(String(init.body))), Response.json(created, { status: 201 }));
  const jobs = createClient<JobTypesOf<typeof JOB_TYPES>>({ baseUrl: "http://jobs.test", fetch: fetcher as typeof fetch, WebSocket: null });
  await jobs.create("demo");
  await jobs.create("demo", undefined, { tags: ["nightly"] });
  expect(bodies).toEqual([{ type: "demo" }, { type: "demo", tags: ["nightly"] }]);
  // @ts-expect-error primes needs n
  await jobs.create("primes").catch(() => null);
  // @ts-expect-error not a type of these
  await jobs.create("nope", {}).catch(() => null);
});

it("runs a job again, keeping its type for its result, and lists the types it may create", async () => {
  const calls: string[] = [];
  const created: CreatedJob = { id: "job-2", state: "queued", urls: {} as CreatedJob["urls"], controlToken: "t2" };
  const types = [{ type: "demo", description: "d", inputSchema: {}, example: {} }];
  const fetcher = async (url: string, init: RequestInit) => {
    calls.push(`${init.method} ${new URL(url).pathname}`);
    return url.endsWith("/job-types") ? Response.json({ types }) : Response.json(created, { status: 201 });
  };
  const jobs = createClient<JobTypesOf<typeof JOB_TYPES>>({ baseUrl: "http://jobs.test", fetch: fetcher as typeof fetch, WebSocket: null });
  const again = await jobs.rerun({ id: "job-1", type: "primes" });
  expect(again).toEqual({ ...created, type: "primes" });
  // What result(again) reads its result's type from (not called here: it would follow the job).
  expectTypeOf(again.type).toEqualTypeOf<"primes" | undefined>();
  expect(await jobs.jobTypes()).toEqual(types);
  expect(calls).toEqual(["POST /jobs/job-1/rerun", "GET /job-types"]);
});

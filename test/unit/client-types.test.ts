// The client's types follow a job from its create to its result: `result(job)` of a
// created job is that type's result, as the README's `const { primes } = ...` needs.
import { expect, expectTypeOf, it } from "vitest";
import type { JOB_TYPES } from "../../app/jobs";
import type { JobTypesOf } from "../../src/authoring";
import type { CreatedJob } from "../../src/protocol";
import { createClient } from "../../src/sdk/client";

it("gives a created job its type, so that its result is typed", async () => {
  const created: CreatedJob = { id: "job-1", state: "queued", urls: {} as CreatedJob["urls"], controlToken: "t" };
  const fetcher = async () => Response.json(created, { status: 201 });
  const jobs = createClient<JobTypesOf<typeof JOB_TYPES>>({ baseUrl: "http://jobs.test", fetch: fetcher as typeof fetch, WebSocket: null });
  const job = await jobs.create("primes", { n: 1_000_000 });
  expect(job).toEqual({ ...created, type: "primes" });
  expectTypeOf(jobs.result(job)).resolves.toEqualTypeOf<{ n: number; primes: number }>();
});

// A job type's `example` is what the start page's form and /job-types offer as a valid
// input: its type is the input schema's, so a stale example does not compile (checked by
// `npm run typecheck`: each @ts-expect-error fails it if the line compiles).
import { expect, it } from "vitest";
import * as v from "valibot";
import { defineJob } from "../../src/jobs/define";

it("checks a type's example against its input schema", () => {
  const input = v.strictObject({ n: v.number(), label: v.optional(v.string()) });
  const base = { description: "", input, inputJsonSchema: {}, async run() { return null; } };
  const ok = defineJob({ type: "ok", ...base, example: { n: 1 } });
  // @ts-expect-error `n` is a number
  defineJob({ type: "wrong", ...base, example: { n: "1" } });
  // @ts-expect-error `n` is required
  defineJob({ type: "missing", ...base, example: { label: "x" } });
  expect(ok.example).toEqual({ n: 1 });
});

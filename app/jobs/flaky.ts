// Fails a chosen number of times and recovers through retries; or fails for good,
// either with a non-retryable error or by running out of retries.
import * as v from "valibot";
import { NonRetryableError, defineJob, jsonSchemaOf } from "../../src/authoring";

const input = v.strictObject({
  failures: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(20)), 2),
  retries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(20)), 5),
  delayMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(60_000)), 1_000),
  fatal: v.optional(v.boolean(), false),
});

export const flaky = defineJob({
  type: "flaky",
  description: "Calls a service that fails `failures` times, retrying with exponential backoff; `fatal` fails it for good.",
  input,
  inputJsonSchema: jsonSchemaOf(input),
  example: { failures: 2, retries: 5, delayMs: 1000, fatal: false },
  async run({ input, step, log }) {
    await step.do("prepare", () => log("info", "Calling the flaky service"));
    const answer = await step.do(
      "call-service",
      { retries: { limit: input.retries, delay: input.delayMs, backoff: "exponential" } },
      ({ attempt }) => {
        if (input.fatal) throw new NonRetryableError("The service refused the request for good");
        if (attempt <= input.failures) throw new Error(`Service unavailable (attempt ${attempt})`);
        return { attempt };
      },
    );
    return { succeededOnAttempt: answer.attempt };
  },
});

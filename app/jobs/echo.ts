// Logs the given lines with a pause before each and returns them: a job whose output the
// caller chooses, to try the pages and streams (and to show that output is text, not HTML).
import * as v from "valibot";
import { defineJob, jsonSchemaOf } from "../../src/authoring";

const input = v.strictObject({
  lines: v.pipe(v.array(v.pipe(v.string(), v.maxLength(1_000))), v.minLength(1), v.maxLength(100)),
  delayMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(60_000)), 500),
});

export const echo = defineJob({
  type: "echo",
  description: "Logs each of `lines`, `delayMs` apart, and returns them.",
  input,
  inputJsonSchema: jsonSchemaOf(input),
  example: { lines: ["Hello", "from a Durable Object"], delayMs: 500 },
  async run({ input, step, log, progress }) {
    for (const [i, line] of input.lines.entries()) {
      // A durable sleep, not a timer: the job survives a restart between lines.
      if (input.delayMs > 0) await step.sleep(`pause-${i + 1}`, input.delayMs);
      await step.do(`line-${i + 1}`, () => log("info", line));
      progress({ current: i + 1, total: input.lines.length });
    }
    return { lines: input.lines };
  },
});

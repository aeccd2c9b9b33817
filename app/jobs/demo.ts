// The classic demo: three messages a second apart.
import * as v from "valibot";
import { defineJob, jsonSchemaOf } from "../../src/authoring";

const input = v.strictObject({
  intervalMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(60_000)), 1_000),
});

const MESSAGES = ["Did something", "Did something else", "All done"];

export const demo = defineJob({
  type: "demo",
  description: "Three messages a second apart: the smallest live job.",
  input,
  inputJsonSchema: jsonSchemaOf(input),
  example: { intervalMs: 1000 },
  async run({ input, step, log, progress }) {
    for (const [i, message] of MESSAGES.entries()) {
      await step.sleep(`pause-${i + 1}`, input.intervalMs);
      await step.do(`message-${i + 1}`, () => log("info", message));
      progress({ current: i + 1, total: MESSAGES.length, message });
    }
    return { messages: MESSAGES.length };
  },
});

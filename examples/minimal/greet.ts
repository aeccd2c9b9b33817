// This Worker's own job type: a greeting after a durable pause.
import * as v from "valibot";
import { defineJob, jsonSchemaOf } from "live-jobs/define";

const input = v.strictObject({ name: v.pipe(v.string(), v.minLength(1), v.maxLength(100)) });

export const greet = defineJob({
  type: "greet",
  description: "Waits a moment, then greets `name`.",
  input,
  inputJsonSchema: jsonSchemaOf(input),
  example: { name: "world" },
  async run({ input, step, log }) {
    await step.sleep("pause", "1 second");
    const greeting = await step.do("greet", () => `Hello, ${input.name}!`);
    log("info", greeting);
    return { greeting };
  },
});

// Job types for the benchmark only (bench/wrangler.toml's Worker registers them next to
// the app's own; src/ never sees them). Owners only, like `ticker`.
import * as v from "valibot";
import { defineJob, jsonSchemaOf, type JobDefinition } from "../../src/authoring";

const stepsInput = v.strictObject({
  steps: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)),
  /** Log lines per step, written from the step's body. */
  lines: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000)), 1),
  /** Characters per log line (the engine keeps at most 8,192). */
  chars: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(8_192)), 20),
  /** A progress update after each step. */
  progress: v.optional(v.boolean(), false),
});

/**
 * `steps` steps, each logging `lines` lines of `chars` characters from its body, with a
 * progress update after each step if asked: the cost of a chatty job per step, the
 * smallest job (one step, three lines), and a job with a history of many megabytes.
 */
export const benchSteps = defineJob({
  type: "bench-steps",
  description: "For benchmarks: `steps` steps, each logging `lines` lines of `chars` characters; `progress` after each step.",
  ownersOnly: true,
  input: stepsInput,
  inputJsonSchema: jsonSchemaOf(stepsInput),
  example: { steps: 60, lines: 1, progress: true },
  needs: ({ steps, lines }) => ({ steps, events: steps * (lines + 3) + 10 }),
  async run({ input, step, log, progress }) {
    const filler = "x".repeat(input.chars);
    for (let i = 1; i <= input.steps; i++) {
      await step.do(`step-${i}`, () => {
        for (let line = 1; line <= input.lines; line++) {
          const label = `step ${i} line ${line} `;
          log("info", label.length >= input.chars ? label.slice(0, input.chars) : label + filler.slice(label.length));
        }
      });
      if (input.progress) progress({ current: i, total: input.steps });
    }
    return { steps: input.steps };
  },
});

export const BENCH_JOB_TYPES: JobDefinition[] = [benchSteps];

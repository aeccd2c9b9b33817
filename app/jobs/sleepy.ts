// A long durable sleep: the object's alarm wakes the job; nothing waits in memory.
import * as v from "valibot";
import { defineJob, durationInput, jsonSchemaOf, parseDuration } from "../../src/authoring";

const MAX_SLEEP = "30 days";

const input = v.strictObject({
  duration: v.optional(durationInput(MAX_SLEEP), "30 seconds"),
});

export const sleepy = defineJob({
  type: "sleepy",
  description: "Sleeps durably for `duration` between two steps.",
  input,
  inputJsonSchema: jsonSchemaOf(input),
  example: { duration: "30 seconds" },
  // A nap longer than the caller's run-time budget is refused at create, not timed out later.
  // The nap starts after the job does and its two steps run around it: a deadline of the
  // nap's length alone would end the job just before it woke, so it needs a minute more.
  needs: ({ duration }) => ({ runTimeMs: (parseDuration(duration) ?? parseDuration(MAX_SLEEP)!) + 60_000 }),
  async run({ input, step, log }) {
    const startedAt = await step.do("fall-asleep", () => {
      log("info", `Sleeping for ${input.duration}`);
      return Date.now();
    });
    // Checked by the input's schema: text from a request, not a Duration the compiler knows.
    await step.sleep("nap", parseDuration(input.duration) ?? 0);
    const wokeAt = await step.do("wake-up", () => {
      log("info", "Awake");
      return Date.now();
    });
    return { sleptMs: wokeAt - startedAt };
  },
});

// Durations in job code are checked by the compiler, as Cloudflare Workflows' are: a
// misspelt unit does not compile (`npm run typecheck`: each @ts-expect-error fails it if
// the line compiles), and what compiles is what parseDuration reads at run time.
import { expect, it } from "vitest";
import type { Duration } from "../../src/authoring";
import type { Step } from "../../src/jobs/define";
import { parseDuration } from "../../src/lib/duration";

it("takes milliseconds and a number with a unit, and refuses a misspelt unit at compile time", () => {
  const good: Duration[] = [250, "250", "250 ms", "10 seconds", "1.5 hours", "7 days", "2w", "30s"];
  expect(good.map((d) => parseDuration(d))).toEqual([250, 250, 250, 10_000, 5_400_000, 604_800_000, 1_209_600_000, 30_000]);
  // @ts-expect-error not a unit
  const typo: Duration = "10 minuets";
  // @ts-expect-error no number
  const bare: Duration = "seconds";
  expect([typo, bare].map((d) => parseDuration(d))).toEqual([null, null]);
  const sleep = (step: Step) => {
    // @ts-expect-error as in step.sleep
    void step.sleep("nap", "2 secs");
    // @ts-expect-error and in a step's retries
    void step.do("s", { retries: { delay: "1 mins" } }, async () => null);
  };
  expect(typeof sleep).toBe("function");
});

// For benchmarks (bench/): publishes log events at a steady rate, each stamped with its
// publish time, so a subscriber can measure publish→receive latency and check that it
// got every event in order. Further phases at other rates let one set of subscribers
// measure several rates without reconnecting.
import * as v from "valibot";
import { defineJob, jsonSchemaOf } from "../../src/authoring";

/** Publishing happens inside one step, which must end well inside the 10-minute step timeout. */
const MAX_PUBLISH_MS = 9 * 60_000;
const MAX_EVENTS = 100_000;

const phaseEntries = {
  count: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_EVENTS)), 100),
  intervalMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(60_000)), 100),
  /** Events published together on each tick; rates above 1,000/s need batch > 1. */
  batch: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000)), 1),
};
const phase = v.strictObject(phaseEntries);
type Phase = v.InferOutput<typeof phase>;

const input = v.pipe(
  v.strictObject({
    ...phaseEntries,
    /** Phases published after the first one, each after a pause of `pauseMs`. */
    then: v.optional(v.pipe(v.array(phase), v.maxLength(20)), []),
    pauseMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(60_000)), 1_000),
    /** Epoch ms: sleep until then, so subscribers can connect before the first event. */
    startAt: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  }),
  v.check(({ count, then }) => count + then.reduce((sum, p) => sum + p.count, 0) <= MAX_EVENTS, `At most ${MAX_EVENTS} events in all`),
  v.check(
    (input) => [input, ...input.then].reduce((ms, p) => ms + publishMs(p) + input.pauseMs, 0) <= MAX_PUBLISH_MS,
    "Publishing every phase must take at most 9 minutes",
  ),
);

function publishMs({ count, intervalMs, batch }: Phase): number {
  return Math.ceil(count / batch) * intervalMs;
}

/** The wire format of each tick's message; bench/ parses it back. */
export function tickMessage(index: number, total: number, at: number): string {
  return `tick ${index}/${total} t=${at}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export const ticker = defineJob({
  type: "ticker",
  description: "For benchmarks: publishes `count` log events, `batch` every `intervalMs`, each carrying its publish time; then each phase of `then`.",
  ownersOnly: true,
  input,
  inputJsonSchema: jsonSchemaOf(input),
  example: { count: 100, intervalMs: 100, batch: 1 },
  async run({ input, step, log }) {
    const phases = [input, ...input.then];
    const total = phases.reduce((sum, p) => sum + p.count, 0);
    if (input.startAt !== undefined) await step.sleepUntil("start", input.startAt);
    // One step for all events: a step per event would cost two step rows and two step
    // events per tick. No retries: a re-run after eviction would publish every tick
    // again, and a benchmark should fail visibly rather than count duplicates.
    return step.do("publish", { retries: { limit: 0 }, timeout: "10 minutes" }, async ({ signal }) => {
      const start = Date.now();
      let sent = 0;
      for (const [i, { count, intervalMs, batch }] of phases.entries()) {
        if (i > 0) await sleep(input.pauseMs);
        const phaseStart = Date.now();
        for (let tick = 0, published = 0; published < count; tick++) {
          // Due times count from the phase start, so a late tick does not delay later ones.
          // Always yield, even at intervalMs 0: sends flush and requests get in between ticks.
          await sleep(phaseStart + tick * intervalMs - Date.now());
          if (signal.aborted) throw signal.reason;
          // Date.now() in workerd advances on I/O only; after the timer it is the tick's time.
          const at = Date.now();
          for (let b = 0; b < batch && published < count; b++, published++) log("info", tickMessage(++sent, total, at));
        }
      }
      return { published: sent, ms: Date.now() - start };
    });
  },
});

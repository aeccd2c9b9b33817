// CPU-bound work cut into many steps: count the primes below n, one segment per step,
// with true progress. Each segment is sieved on its own, so any step can be replayed.
import * as v from "valibot";
import { defineJob, jsonSchemaOf } from "../../src/authoring";

const MAX_N = 1_000_000_000;
const DEFAULT_SEGMENT = 1_000_000;

const input = v.strictObject({
  n: v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(MAX_N)),
  segment: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1_000), v.maxValue(10_000_000)), DEFAULT_SEGMENT),
});

const count = (value: number) => value.toLocaleString("en-US");

/** Primes up to and including `limit`, by a plain sieve. */
function basePrimes(limit: number): number[] {
  const composite = new Uint8Array(limit + 1);
  const primes: number[] = [];
  for (let i = 2; i <= limit; i++) {
    if (composite[i]) continue;
    primes.push(i);
    for (let j = i * i; j <= limit; j += i) composite[j] = 1;
  }
  return primes;
}

/** How many primes lie in [low, high), given every prime up to sqrt(high). */
export function countPrimesInSegment(low: number, high: number, primes: number[]): number {
  const composite = new Uint8Array(high - low);
  for (const p of primes) {
    if (p * p >= high) break;
    for (let j = Math.max(p * p, Math.ceil(low / p) * p); j < high; j += p) composite[j - low] = 1;
  }
  let count = 0;
  for (let i = Math.max(low, 2); i < high; i++) if (!composite[i - low]) count++;
  return count;
}

export const primes = defineJob({
  type: "primes",
  description: "Counts the primes below n, one sieve segment per durable step.",
  input,
  inputJsonSchema: jsonSchemaOf(input),
  example: { n: 20_000_000, segment: 1_000_000 },
  // One step per segment: refuse up front what the job's budget could not finish.
  needs: ({ n, segment }) => ({ steps: Math.ceil(n / segment) }),
  // The schema's maximum alone promises a billion, which an anonymous visitor's 200 steps cannot reach.
  inputHints: ({ steps }) => ({
    n: `your budget: ${count(steps)} steps, one per segment, so n up to ${count(steps)} × segment (${count(Math.min(MAX_N, steps * DEFAULT_SEGMENT))} with the default segment)`,
  }),
  async run({ input, step, progress }) {
    const { n, segment } = input;
    const small = basePrimes(Math.ceil(Math.sqrt(n)));
    const segments = Math.ceil(n / segment);
    let total = 0;
    for (let i = 0; i < segments; i++) {
      const low = i * segment;
      const high = Math.min(n, low + segment);
      total += await step.do(`segment-${i + 1}`, () => countPrimesInSegment(low, high, small));
      progress({ current: i + 1, total: segments, message: `${high.toLocaleString("en-US")} checked, ${total.toLocaleString("en-US")} primes` });
    }
    return { n, primes: total };
  },
});

import { expect, it } from "vitest";
import { countPrimesInSegment } from "../../app/jobs/primes";

it("counts primes in segments that add up to the known totals", () => {
  const small = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97];
  expect(countPrimesInSegment(0, 100, small)).toBe(25);
  expect(countPrimesInSegment(0, 2, small)).toBe(0);
  expect(countPrimesInSegment(2, 3, small)).toBe(1);
  let total = 0;
  for (let low = 0; low < 10_000; low += 777) total += countPrimesInSegment(low, Math.min(10_000, low + 777), small);
  expect(total).toBe(1229);
});

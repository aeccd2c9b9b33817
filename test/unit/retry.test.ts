import { expect, it } from "vitest";
import { retryDelay } from "../../src/job/retry";

it("grows the wait by backoff kind", () => {
  const waits = (backoff: "constant" | "linear" | "exponential") => [1, 2, 3, 4].map((attempt) => retryDelay(1000, backoff, attempt));
  expect(waits("constant")).toEqual([1000, 1000, 1000, 1000]);
  expect(waits("linear")).toEqual([1000, 2000, 3000, 4000]);
  expect(waits("exponential")).toEqual([1000, 2000, 4000, 8000]);
});

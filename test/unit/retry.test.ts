import { expect, it } from "vitest";
import { retryDelay } from "../../src/job/retry";

it("grows the wait by backoff kind", () => {
  const waits = (backoff: "constant" | "linear" | "exponential") => [1, 2, 3, 4].map((attempt) => retryDelay(1000, backoff, attempt));
  expect(waits("constant")).toEqual([1000, 1000, 1000, 1000]);
  expect(waits("linear")).toEqual([1000, 2000, 3000, 4000]);
  expect(waits("exponential")).toEqual([1000, 2000, 4000, 8000]);
});

import { decideRetry, mayResumeInterrupted, type FailedAttempt } from "../../src/job/retry";

const failed = (overrides: Partial<FailedAttempt>): FailedAttempt => ({
  attempt: 1, nonRetryable: false, retries: { limit: 3, delayMs: 1_000, backoff: "exponential" }, now: 10_000, deadline: 100_000, ...overrides,
});

it("retries after the backoff's delay while retries are left", () => {
  expect(decideRetry(failed({ attempt: 1 }))).toEqual({ kind: "retry", at: 11_000 });
  expect(decideRetry(failed({ attempt: 3 }))).toEqual({ kind: "retry", at: 14_000 });
});

it("fails once the retries are used up, or at once for a non-retryable error", () => {
  expect(decideRetry(failed({ attempt: 4 }))).toEqual({ kind: "fail", reason: "no_retries_left" });
  expect(decideRetry(failed({ attempt: 1, nonRetryable: true }))).toEqual({ kind: "fail", reason: "non_retryable" });
  expect(decideRetry(failed({ attempt: 1, retries: { limit: 0, delayMs: 0, backoff: "constant" } }))).toEqual({ kind: "fail", reason: "no_retries_left" });
});

it("times out when the next attempt would start at or past the deadline", () => {
  expect(decideRetry(failed({ attempt: 1, deadline: 11_000 }))).toEqual({ kind: "time_out" });
  expect(decideRetry(failed({ attempt: 1, deadline: 11_001 }))).toEqual({ kind: "retry", at: 11_000 });
});

it("retries at once (no wait) with a zero delay", () => {
  expect(decideRetry(failed({ retries: { limit: 2, delayMs: 0, backoff: "exponential" } }))).toEqual({ kind: "retry", at: 10_000 });
});

it("resumes an interrupted step only while its attempts are within the retry limit", () => {
  expect(mayResumeInterrupted(1, 0)).toBe(false);
  expect(mayResumeInterrupted(3, 3)).toBe(true);
  expect(mayResumeInterrupted(4, 3)).toBe(false);
});

import { decideMissingType, MISSING_TYPE_WAIT_MAX_MS, type MissingType } from "../../src/job/retry";

const missing = (overrides: Partial<MissingType>): MissingType => ({
  type: "report", started: false, createdAt: 0, now: 0, deadline: 3_600_000, ...overrides,
});

it("a job that never ran waits for its type, looking again after as long as it has existed, 1 s to 5 min", () => {
  expect(decideMissingType(missing({ now: 10 }))).toEqual({ kind: "wait", at: 1_010 });
  expect(decideMissingType(missing({ now: 8_000 }))).toEqual({ kind: "wait", at: 16_000 });
  expect(decideMissingType(missing({ now: 1_000_000 }))).toEqual({ kind: "wait", at: 1_000_000 + MISSING_TYPE_WAIT_MAX_MS });
});

it("a job that never ran fails when its next look would be past its deadline; one that ran fails at once", () => {
  const late = decideMissingType(missing({ now: 3_400_000 }));
  expect(late).toMatchObject({ kind: "fail" });
  expect(late.kind === "fail" && late.message).toMatch(/^Job type "report" never reached/);
  expect(decideMissingType(missing({ started: true, now: 10 }))).toEqual({ kind: "fail", message: 'Job type "report" is no longer registered' });
});

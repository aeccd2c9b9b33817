import type { Backoff } from "../jobs/define";

/** Wait before the retry that follows failed attempt number `attempt` (1-based). */
export function retryDelay(delayMs: number, backoff: Backoff, attempt: number): number {
  if (backoff === "constant") return delayMs;
  if (backoff === "linear") return delayMs * attempt;
  return delayMs * 2 ** (attempt - 1);
}

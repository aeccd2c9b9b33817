// Completion webhooks, signed as the Standard Webhooks specification says
// (https://www.standardwebhooks.com): `webhook-id` (the same on every attempt, so a
// receiver can drop repeats), `webhook-timestamp` (this attempt's, in seconds) and
// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the
// deployment's `whsec_` secret. The job's own alarm delivers it, retrying with backoff;
// every attempt is an event in the job's log.
import { toBase64 } from "../lib/crypto";
import type { EventData, JobErrorInfo, JobState, Json, WebhookStatus } from "../protocol";

/** Attempts in all; the waits before the second, third, … */
export const RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 600_000];
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
export const ATTEMPT_TIMEOUT_MS = 10_000;
/** From a job's end to its webhook's last attempt at the latest: every wait, every attempt's timeout. */
export const WEBHOOK_SPAN_MS = RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0) + MAX_ATTEMPTS * ATTEMPT_TIMEOUT_MS;

/** How long a job is kept after its end: the retention, and with a webhook at least until its last attempt (and a minute for a late alarm). */
export function keptForMs(retentionMs: number, hasWebhook: boolean): number {
  return hasWebhook ? Math.max(retentionMs, WEBHOOK_SPAN_MS + 60_000) : retentionMs;
}

/** What the job stores of its webhook. */
export interface WebhookRecord extends WebhookStatus {
  url: string;
  /** When the next attempt is due, while pending. */
  next: number | null;
}

export interface CompletedJob {
  id: string;
  type: string;
  state: JobState;
  tags: string[];
  result: Json | null;
  error: JobErrorInfo | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export function webhookBody(job: CompletedJob, now: number): string {
  const { result, error, ...data } = job;
  return JSON.stringify({
    type: `job.${job.state}`,
    timestamp: new Date(now).toISOString(),
    data: { ...data, ...(job.state === "succeeded" ? { result } : { error }) },
  });
}

/** One signature per key, space-separated, as the specification has it for a key rotation. */
export async function webhookSignature(keys: readonly Uint8Array[], id: string, timestamp: number, body: string): Promise<string> {
  const content = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  const signatures = await Promise.all(keys.map(async (key) => {
    const hmac = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return `v1,${toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", hmac, content)))}`;
  }));
  return signatures.join(" ");
}

/** `final`: no attempt could succeed (no secret to sign with), so there is no retry. */
export type AttemptResult = { ok: true; status: number } | { ok: false; status?: number; error: string; final?: boolean };

/** One POST; only a 2xx counts, redirects are not followed, and nothing of the answer is read. */
export async function sendWebhook(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
  try {
    const response = await fetch(url, {
      method: "POST", body, redirect: "manual", signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      headers: { "Content-Type": "application/json", "User-Agent": "live-jobs-webhooks", ...headers },
    });
    await response.body?.cancel();
    return response.ok ? { ok: true, status: response.status } : { ok: false, status: response.status, error: `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, error: (error as Error).name === "TimeoutError" ? `no answer within ${ATTEMPT_TIMEOUT_MS} ms` : "could not connect" };
  }
}

/** After an attempt: the webhook's new record and the event that tells it. */
export function afterAttempt(record: WebhookRecord, result: AttemptResult, now: number): { record: WebhookRecord; event: EventData["webhook"] } {
  const attempt = record.attempts + 1;
  const status = result.status === undefined ? {} : { httpStatus: result.status };
  if (result.ok) return { record: { ...record, attempts: attempt, state: "delivered", next: null }, event: { attempt, outcome: "delivered", ...status } };
  const delay = result.final ? undefined : RETRY_DELAYS_MS[attempt - 1];
  if (delay === undefined) {
    return { record: { ...record, attempts: attempt, state: "failed", next: null }, event: { attempt, outcome: "failed", error: result.error, ...status } };
  }
  return {
    record: { ...record, attempts: attempt, next: now + delay },
    event: { attempt, outcome: "retrying", error: result.error, until: now + delay, ...status },
  };
}

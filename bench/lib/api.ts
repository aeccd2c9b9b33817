// The few HTTP calls the scenarios make against the app's public API.
import { isTerminal } from "../../src/lib/job-state.ts";
import type { CreatedJob, JobSnapshot } from "../../src/protocol.ts";

/** Mirrors JobCosts in src/job/storage.ts (GET /jobs/:id/costs). */
export interface JobCosts {
  rowsWritten: number;
  alarmsArmed: number;
  eventsStored: number;
  steps: number;
}

export async function createJob(base: string, type: string, input: unknown): Promise<CreatedJob> {
  const response = await fetch(`${base}/jobs`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ type, input }),
  });
  if (response.status !== 201) throw new Error(`POST /jobs answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as CreatedJob;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

export function getSnapshot(base: string, id: string): Promise<JobSnapshot> {
  return getJson(`${base}/jobs/${id}`);
}

export function getCosts(base: string, id: string): Promise<JobCosts> {
  return getJson(`${base}/jobs/${id}/costs`);
}

export async function cancelJob(base: string, id: string): Promise<void> {
  const response = await fetch(`${base}/jobs/${id}/cancel`, { method: "POST" });
  await response.body?.cancel();
}

/** Polls until the job ended; the scenarios that need this run few jobs. */
export async function waitForEnd(base: string, id: string, timeoutMs: number): Promise<JobSnapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const snapshot = await getSnapshot(base, id);
    if (isTerminal(snapshot.state)) return snapshot;
    if (Date.now() > deadline) throw new Error(`Job ${id} still ${snapshot.state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// The few HTTP calls the scenarios make: the app's public API as its owner "e2e" (the
// token test/e2e/wrangler-dev.ts configures), and the floor contender's routes.
import { isTerminal } from "../../src/lib/job-state.ts";
import type { CreatedJob, EventPage, JobSnapshot, Usage } from "../../src/protocol.ts";
import { E2E_TOKEN } from "../../test/e2e/wrangler-dev.ts";

/** Every bench job is created by this owner: `ticker` and the bench types are owners-only, and the owner sees `usage`. */
export const OWNER_AUTH = { Authorization: `Bearer ${E2E_TOKEN}` };

/** What the bench needs of a created job, on either contender. */
export interface Created {
  id: string;
  /** The job's WebSocket subscribe URL. */
  ws: string;
}

export async function createJob(base: string, type: string, input: unknown): Promise<CreatedJob> {
  const response = await fetch(`${base}/jobs`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...OWNER_AUTH },
    body: JSON.stringify({ type, input }),
  });
  if (response.status !== 201) throw new Error(`POST /jobs answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as CreatedJob;
}

/** The floor's input (bench/.worker/floor.ts, FloorInput). */
export interface FloorInput {
  snapshotChars?: number;
  events?: number;
  eventChars?: number;
  ticker?: { count: number; intervalMs: number; batch: number; startAt: number } & Partial<TickerFrames>;
}

export async function createFloorJob(base: string, type: string, input: FloorInput): Promise<Created> {
  const response = await fetch(`${base}/floor/jobs`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ type, input }),
  });
  if (response.status !== 201) throw new Error(`POST /floor/jobs answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { id: string; urls: { ws: string } };
  return { id: body.id, ws: body.urls.ws };
}

/** The job as its owner sees it: with `usage`. Each call is one request into the object. */
export async function getSnapshot(base: string, id: string): Promise<JobSnapshot & { usage: Usage }> {
  const response = await fetch(`${base}/jobs/${id}`, { headers: OWNER_AUTH });
  if (!response.ok) throw new Error(`GET /jobs/${id} answered ${response.status}: ${await response.text()}`);
  const snapshot = (await response.json()) as JobSnapshot;
  if (!snapshot.usage) throw new Error(`GET /jobs/${id} as its owner has no usage`);
  return snapshot as JobSnapshot & { usage: Usage };
}

export async function cancelJob(base: string, id: string): Promise<void> {
  const response = await fetch(`${base}/jobs/${id}/cancel`, { method: "POST", headers: OWNER_AUTH });
  await response.body?.cancel();
}

/** Polls until the job ended; returns the last snapshot and how many status reads it took (each a request into the object). */
export async function waitForEnd(base: string, id: string, timeoutMs: number): Promise<{ snapshot: JobSnapshot & { usage: Usage }; reads: number }> {
  const deadline = Date.now() + timeoutMs;
  for (let reads = 1; ; reads++) {
    const snapshot = await getSnapshot(base, id);
    if (isTerminal(snapshot.state)) return { snapshot, reads };
    if (Date.now() > deadline) throw new Error(`Job ${id} still ${snapshot.state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * What the project's ticker sends from its start besides its ticks, for the floor's ticker
 * to send as well: its state and step events before the first tick (`lead`) and after the
 * last (`tail`, the result last), and their mean characters as WebSocket frames.
 */
export interface TickerFrames {
  lead: number;
  tail: number;
  frameChars: number;
}

const TICK_MESSAGE = /^tick \d+\/\d+ t=\d+$/;

/** Read from a finished ticker job that started at `startAt`: its events from then on. */
export async function tickerFrames(base: string, id: string, startAt: number): Promise<TickerFrames> {
  const response = await fetch(`${base}/jobs/${id}/events?since=0&limit=1000`, { headers: OWNER_AUTH });
  if (!response.ok) throw new Error(`GET /jobs/${id}/events answered ${response.status}: ${await response.text()}`);
  const { events } = (await response.json()) as EventPage;
  const ticks = events.filter((event) => event.type === "log" && TICK_MESSAGE.test(event.data.message));
  if (!ticks.length || events.at(-1)?.type !== "result") {
    throw new Error(`Ticker job ${id} did not publish ticks and a result`);
  }
  const first = ticks[0]!.seq;
  const last = ticks.at(-1)!.seq;
  const others = events.filter((event) => (event.at >= startAt && event.seq < first) || event.seq > last);
  const chars = others.reduce((sum, event) => sum + JSON.stringify({ type: "event", event }).length, 0);
  return { lead: others.filter((event) => event.seq < first).length, tail: others.filter((event) => event.seq > last).length, frameChars: others.length ? Math.round(chars / others.length) : 0 };
}

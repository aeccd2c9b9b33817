// Shared test helpers. Time is virtual: Date.now() in the tests and in the objects (one
// isolate) starts a year ahead of the real clock, so every alarm an object arms lies in
// the real future and never fires by itself; tests move the clock and run alarms with
// runDurableObjectAlarm.
import { env, SELF, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, expect, vi } from "vitest";
import type { JobRpc } from "../src/job/job-object";
import { idOfName } from "../src/lib/named-object";
import type { CreatedJob, EventPage, JobEvent, JobSnapshot, StepPage, StepSummary } from "../src/protocol";
import { ALICE } from "./secrets";

const YEAR_MS = 365 * 86_400_000;
let offset = YEAR_MS;

export const clock = {
  now: () => realNow() + offset,
  advance(ms: number) {
    offset += ms;
  },
  set(at: number) {
    offset = at - realNow();
  },
};

const realNow = Date.now.bind(Date);

export function useVirtualClock(): void {
  beforeEach(() => {
    offset = YEAR_MS;
    vi.spyOn(Date, "now").mockImplementation(() => realNow() + offset);
  });
  afterEach(() => vi.restoreAllMocks());
}

export const BASE = "http://jobs.test";

/** What a WebSocket client sends to upgrade (RFC 6455); SELF.fetch adds none of it. */
export const UPGRADE = { Upgrade: "websocket", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" };

export function stubOf(id: string): DurableObjectStub {
  return env.JOBS.get(idOfName(env.JOBS, id));
}

export function rpcOf(id: string): JobRpc {
  return stubOf(id) as unknown as JobRpc;
}

/** `Authorization` for a token; none for an anonymous visitor (null). */
export function auth(token: string | null = ALICE): Record<string, string> {
  return token === null ? {} : { Authorization: `Bearer ${token}` };
}

/** Posts JSON as Alice unless told otherwise (`token` null: anonymously). */
export function postJson(path: string, body: unknown, headers: Record<string, string> = {}, token: string | null = ALICE): Promise<Response> {
  return SELF.fetch(BASE + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...auth(token), ...headers },
    body: JSON.stringify(body),
  });
}

/** Cancels as Alice (the default creator) unless told otherwise. */
export function cancelJob(id: string, headers: Record<string, string> = auth()): Promise<Response> {
  return SELF.fetch(`${BASE}/jobs/${id}/cancel`, { method: "POST", headers });
}

export async function createJob(type: string, input: unknown = {}, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await postJson("/jobs", { type, input, ...extra });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json<CreatedJob>()).id;
}

export async function snapshot(id: string): Promise<JobSnapshot> {
  const response = await SELF.fetch(`${BASE}/jobs/${id}`);
  expect(response.status).toBe(200);
  return response.json<JobSnapshot>();
}

export async function allEvents(id: string): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  for (let since = 0; ; ) {
    const page = await (await SELF.fetch(`${BASE}/jobs/${id}/events?since=${since}&limit=1000`)).json<EventPage>();
    events.push(...page.events);
    if (page.events.length === 0) return events;
    since = page.nextSince;
  }
}

/** Every step, through the paged /steps route. */
export async function allSteps(id: string): Promise<StepSummary[]> {
  const steps: StepSummary[] = [];
  for (let after = -1; ; ) {
    const page = await (await SELF.fetch(`${BASE}/jobs/${id}/steps?after=${after}&limit=500`)).json<StepPage>();
    steps.push(...page.steps);
    if (page.next === null) return steps;
    after = page.next;
  }
}

export async function alarmAt(id: string): Promise<number | null> {
  return runInDurableObject(stubOf(id), (_, state) => state.storage.getAlarm());
}

/** Moves the clock to the job's next alarm and runs it. */
export async function runNextAlarm(id: string): Promise<boolean> {
  const at = await alarmAt(id);
  if (at === null) return false;
  if (at > clock.now()) clock.set(at);
  return runDurableObjectAlarm(stubOf(id));
}

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

/** Runs alarms until the job ends; fails the test if it takes more than `maxAlarms`. */
export async function runToEnd(id: string, maxAlarms = 200): Promise<JobSnapshot> {
  for (let i = 0; i < maxAlarms; i++) {
    const current = await snapshot(id);
    if (TERMINAL.has(current.state)) return current;
    expect(await runNextAlarm(id)).toBe(true);
  }
  throw new Error(`job ${id} did not finish within ${maxAlarms} alarms`);
}

export function expectGapFree(events: JobEvent[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  for (let i = 1; i < events.length; i++) expect(events[i]!.at).toBeGreaterThanOrEqual(events[i - 1]!.at);
}

export function stepStatuses(events: JobEvent[], name?: string): string[] {
  return events.flatMap((e) => (e.type === "step" && (!name || e.data.name === name) ? [`${e.data.name}:${e.data.status}:${e.data.attempt}`] : []));
}

export function states(events: JobEvent[]): string[] {
  return events.flatMap((e) => (e.type === "state" ? [e.data.state] : []));
}

/** A JSON error answer with this status and code, and a message; its error object. */
export async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toContain("application/json");
  const body = await response.json<{ error: { code: string; message: string; issues?: unknown[] } }>();
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

// The event log: gap-free increasing seq, pages for polling clients, coalesced progress.
// (Its budget is in budgets.test.ts.)
import { runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { openGate } from "./fixtures/jobs";
import { EVENT_PAGE_CHARS } from "../src/job/job-object";
import type { EventPage } from "../src/protocol";
import { allEvents, BASE, createJob, expectGapFree, runToEnd, stepStatuses, stubOf, useVirtualClock } from "./helpers";

useVirtualClock();

const page = async (id: string, query: string) => (await SELF.fetch(`${BASE}/jobs/${id}/events?${query}`)).json<EventPage>();

it("pages through the log with since and limit", async () => {
  const id = await createJob("demo", { intervalMs: 10 });
  const done = await runToEnd(id);
  const all = await allEvents(id);
  expect(all).toHaveLength(done.lastSeq);
  expectGapFree(all);

  const first = await page(id, "limit=5");
  expect(first.events).toEqual(all.slice(0, 5));
  expect(first).toMatchObject({ nextSince: 5, lastSeq: done.lastSeq, done: false });
  const rest = await page(id, `since=${first.nextSince}&limit=1000`);
  expect(rest.events).toEqual(all.slice(5));
  expect(rest.done).toBe(true);
  expect(await page(id, `since=${done.lastSeq}`)).toEqual({ events: [], nextSince: done.lastSeq, lastSeq: done.lastSeq, done: true });
  expect((await page(id, "since=999999")).nextSince).toBe(done.lastSeq);
});

it("keeps a page of big events near 1 MiB, and the next page goes on from there", async () => {
  const id = await createJob("test-logger", { lines: 300, size: 10_000, perStep: 100 });
  await runToEnd(id);
  const first = await (await SELF.fetch(`${BASE}/jobs/${id}/events?limit=1000`)).text();
  expect(first.length).toBeLessThan(EVENT_PAGE_CHARS + 100_000);
  const { events, nextSince, done } = JSON.parse(first) as EventPage;
  expect(events.length).toBeGreaterThan(50);
  expect(done).toBe(false);
  expect(nextSince).toBe(events.at(-1)!.seq);
  const all = await allEvents(id);
  expect(all.filter((e) => e.type === "log")).toHaveLength(300);
  expectGapFree(all);
});

it("coalesces rapid progress but always keeps the latest", async () => {
  const id = await createJob("primes", { n: 100_000, segment: 1_000 });
  const done = await runToEnd(id);
  const events = await allEvents(id);
  const progress = events.flatMap((e) => (e.type === "progress" ? [e.data] : []));
  expect(progress.length).toBeLessThan(100);
  expect(progress.at(-1)).toMatchObject({ current: 100, total: 100 });
  expect(done.progress).toMatchObject({ current: 100, total: 100 });
  expect(stepStatuses(events).filter((s) => s.endsWith(":succeeded:1"))).toHaveLength(100);
});

it("writes what a running step logs without waiting for the step to end", async () => {
  const id = await createJob("test-gate");
  const slice = runDurableObjectAlarm(stubOf(id));
  await vi.waitFor(async () => {
    const logs = (await allEvents(id)).filter((e) => e.type === "log");
    expect(logs.map((e) => e.data.message)).toEqual(["waiting for the gate (attempt 1)"]);
  });
  openGate(id);
  await slice;
  expect((await runToEnd(id)).state).toBe("succeeded");
});

// Cloudflare refuses a row over 2 MB (local workerd does not): a step's result and the
// job's result, 1 MB each, go in two rows.
it("keeps every log row under 2 MB when a job returns its last step's result of 1 MB", async () => {
  const id = await createJob("test-big-result", { chars: 1_040_000 });
  const done = await runToEnd(id);
  expect(done.state).toBe("succeeded");
  expect(done.result).toHaveLength(1_040_000);
  const sizes = await runInDurableObject(stubOf(id), (_, state) =>
    state.storage.sql.exec<{ bytes: number }>("SELECT length(CAST(events AS BLOB)) + coalesce(length(CAST(steps AS BLOB)), 0) + coalesce(length(CAST(result AS BLOB)), 0) AS bytes FROM log").toArray().map((row) => row.bytes));
  expect(Math.max(...sizes)).toBeLessThan(2_000_000);
});

// A crash between any two writes of a job: every prefix of a job's log rows is a state
// the job can be left in. From each one it resumes and ends with the same result; a step
// whose success was written never runs again; one whose start was written runs again as
// its next attempt; the events stay gap-free, and those already written stay as they were.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { JobEvent } from "../src/protocol";
import { runCount } from "./fixtures/jobs";
import { allEvents, clock, createJob, expectGapFree, runToEnd, stepStatuses, stubOf, useVirtualClock } from "./helpers";

useVirtualClock();

type LogRow = { seq: number; events: string; steps: string | null; result: string | null; progress: string | null };

const INPUT = { steps: 3, sleepMs: 0 };

async function logRows(id: string): Promise<LogRow[]> {
  return runInDurableObject(stubOf(id), (_, state) => state.storage.sql.exec<LogRow>("SELECT * FROM log ORDER BY seq").toArray());
}

/** A new job of `type` left as a crash after `prefix` of another's log rows would leave it: running, its watchdog alarm due. */
async function crashedAfter(type: string, input: unknown, prefix: LogRow[]): Promise<string> {
  const id = await createJob(type, input);
  await runInDurableObject(stubOf(id), async (_, state) => {
    state.storage.sql.exec("DELETE FROM log");
    for (const row of prefix) {
      state.storage.sql.exec("INSERT INTO log (seq, events, steps, result, progress) VALUES (?, ?, ?, ?, ?)", row.seq, row.events, row.steps, row.result, row.progress);
    }
    state.storage.sql.exec("UPDATE job SET state = 'running', started_at = ?", clock.now());
    await state.storage.setAlarm(clock.now());
  });
  // The crash: the object starts afresh from its storage.
  await evictDurableObject(stubOf(id));
  return id;
}

it("resumes from every prefix of its writes with the same result, never re-running a finished step", async () => {
  const reference = await createJob("test-counter", INPUT);
  const done = await runToEnd(reference);
  const rows = await logRows(reference);
  expect(rows.length).toBeGreaterThan(4);

  // Every prefix that leaves the job unfinished (the last rows end it).
  for (let kept = 1; kept < rows.length - 1; kept++) {
    const prefix = rows.slice(0, kept);
    const written = prefix.flatMap((row) => JSON.parse(row.events) as JobEvent[]);
    const id = await crashedAfter("test-counter", INPUT, prefix);
    const resumed = await runToEnd(id);
    expect(resumed.state, `after ${kept} rows`).toBe("succeeded");
    expect(resumed.result).toEqual(done.result);
    const events = await allEvents(id);
    expectGapFree(events);
    expect(events.slice(0, written.length)).toEqual(written);
    for (let i = 1; i <= INPUT.steps; i++) {
      const name = `step-${i}`;
      const statuses = stepStatuses(written, name);
      const expectedRuns = statuses.includes(`${name}:succeeded:1`) ? 0 : 1;
      expect(runCount(id, name), `${name} after ${kept} rows`).toBe(expectedRuns);
      // A start that was written and not finished comes back as attempt 2.
      if (statuses.at(-1) === `${name}:started:1`) expect(stepStatuses(events, name)).toEqual([`${name}:started:1`, `${name}:started:2`, `${name}:succeeded:2`]);
    }
  }
});

// A step whose result fills most of a row: what run() logs after it, outside any step,
// must be in the same row, since replay leaves those calls out.
it("keeps what run() logs after a step with a large result, from every prefix of its writes", async () => {
  const input = { steps: 3, resultChars: 70_000 };
  const reference = await createJob("test-bulky", input);
  await runToEnd(reference);
  const logged = (events: JobEvent[]) => events.flatMap((e) => (e.type === "log" ? [e.data.message] : []));
  expect(logged(await allEvents(reference))).toEqual(["after bulk 1", "after bulk 2", "after bulk 3"]);
  const rows = await logRows(reference);
  for (let kept = 1; kept < rows.length - 1; kept++) {
    const id = await crashedAfter("test-bulky", input, rows.slice(0, kept));
    expect((await runToEnd(id)).result).toEqual({ chars: 210_000 });
    const events = await allEvents(id);
    expect(logged(events), `after ${kept} rows`).toEqual(["after bulk 1", "after bulk 2", "after bulk 3"]);
    expectGapFree(events);
  }
});

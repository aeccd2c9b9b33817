// Retention: a finished job is readable for the retention period (1 day in the tests),
// then its alarm deletes all of its storage and its id answers 410 Gone.
import { runInDurableObject, SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import type { JobObject } from "../src/job/job-object";
import { alarmAt, auth, BASE, clock, createJob, runNextAlarm, runToEnd, stubOf, useVirtualClock } from "./helpers";

useVirtualClock();

const DAY_MS = 86_400_000;

const tableCount = (id: string) =>
  runInDurableObject(stubOf(id), (_, state) => state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master").one().n);

it("keeps a finished job for the retention period, then deletes its storage", async () => {
  const id = await createJob("sleepy", { duration: 0 });
  const done = await runToEnd(id);
  expect(done.expiresAt).toBe(done.finishedAt! + DAY_MS);
  expect(await alarmAt(id)).toBe(done.expiresAt);

  clock.set(done.expiresAt! - 1000); // an early alarm (e.g. a retry) deletes nothing
  await runInDurableObject(stubOf(id), (instance: JobObject) => instance.alarm());
  expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(200);

  expect(await runNextAlarm(id)).toBe(true);
  expect(await tableCount(id)).toBe(0);
  expect(await alarmAt(id)).toBeNull();

  for (const path of ["", "/events", "/cancel"]) {
    const response = await SELF.fetch(`${BASE}/jobs/${id}${path}`, { method: path === "/cancel" ? "POST" : "GET", headers: auth() });
    expect(response.status).toBe(410);
    expect(await response.json()).toMatchObject({ error: { code: "gone", message: expect.stringContaining("retention") } });
  }
  // Reading a gone job wrote nothing.
  expect(await tableCount(id)).toBe(0);
  expect(await alarmAt(id)).toBeNull();
});

// Retention: a finished job is readable for the retention period (1 day in the tests),
// then its alarm deletes all of its storage and its id answers 410 Gone.
import { runInDurableObject, SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import type { JobObject } from "../src/job/job-object";
import { alarmAt, auth, BASE, clock, createJob, expectError, runNextAlarm, runToEnd, stubOf, UPGRADE, useVirtualClock } from "./helpers";

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

it("answers a job past its expiry 410 on every read, though its alarm has not erased it yet (late after an outage)", async () => {
  const key = `late-${crypto.randomUUID()}`;
  const create = () => SELF.fetch(`${BASE}/jobs`, {
    method: "POST", headers: { ...auth(), "Content-Type": "application/json", "Idempotency-Key": key }, body: JSON.stringify({ type: "sleepy", input: { duration: 0 } }),
  });
  const created = await create();
  expect(created.status).toBe(201);
  const { id } = await created.json<{ id: string }>();
  const done = await runToEnd(id);
  clock.set(done.expiresAt! - 60_000);
  expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(200);
  expect((await create()).status).toBe(200); // the key's job, still there
  clock.set(done.expiresAt!); // due, not yet run
  for (const path of ["", "/events", "/steps", "/sse", "/stream", "/ws"]) {
    await expectError(await SELF.fetch(`${BASE}/jobs/${id}${path}`, { headers: path === "/ws" ? UPGRADE : {} }), 410, "gone");
  }
  await expectError(await SELF.fetch(`${BASE}/jobs/${id}/cancel`, { method: "POST", headers: auth() }), 410, "gone");
  // Its key is spent, as once the job is erased: never the old job again, nor a new one at its link.
  await expectError(await create(), 409, "idempotency_key_reused");
  expect(await tableCount(id)).toBeGreaterThan(0);
  expect(await runNextAlarm(id)).toBe(true);
  await expectError(await SELF.fetch(`${BASE}/jobs/${id}`), 410, "gone");
  await expectError(await create(), 409, "idempotency_key_reused");
});

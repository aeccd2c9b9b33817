// Idempotency-Key: a retried create lands on the same object and returns the same job.
import { evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import { JobStore } from "../src/job/storage";
import type { CreatedJob } from "../src/protocol";
import { auth, BASE, clock, expectError, postJson, runNextAlarm, runToEnd, snapshot, stubOf, useVirtualClock } from "./helpers";
import { BOB } from "./secrets";

useVirtualClock();

const body = { type: "demo", input: { intervalMs: 10 } };

it("returns the same job for a retried create with the same key", async () => {
  const key = `retry-${crypto.randomUUID()}`;
  const first = await postJson("/jobs", body, { "Idempotency-Key": key });
  expect(first.status).toBe(201);
  const { controlToken, ...created } = await first.json<CreatedJob>();
  expect(controlToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const second = await postJson("/jobs", body, { "Idempotency-Key": key });
  expect(second.status).toBe(200);
  // The same job, and its control token is not handed out again.
  expect(await second.json<CreatedJob>()).toEqual(created);
  expect(second.headers.get("Control-Token")).toBeNull();
  expect(second.headers.get("Location")).toBe(created.urls.self);
  expect((await snapshot(created.id)).lastSeq).toBe(1); // one job, one "queued" event
});

it("creates different jobs for different keys and for no key", async () => {
  const ids = new Set<string>();
  const headerSets: Record<string, string>[] = [{ "Idempotency-Key": `a-${crypto.randomUUID()}` }, { "Idempotency-Key": `b-${crypto.randomUUID()}` }, {}, {}];
  for (const headers of headerSets) {
    const response = await postJson("/jobs", body, headers);
    expect(response.status).toBe(201);
    ids.add((await response.json<CreatedJob>()).id);
  }
  expect(ids.size).toBe(4);
});

it("refuses a reused key with a different request (409)", async () => {
  const key = `reuse-${crypto.randomUUID()}`;
  expect((await postJson("/jobs", body, { "Idempotency-Key": key })).status).toBe(201);
  const response = await postJson("/jobs", { ...body, input: { intervalMs: 20 } }, { "Idempotency-Key": key });
  expect(response.status).toBe(409);
  expect(await response.json()).toMatchObject({ error: { code: "idempotency_key_reused" } });
});

it("refuses a malformed key (400)", async () => {
  const response = await postJson("/jobs", body, { "Idempotency-Key": "x".repeat(256) });
  expect(response.status).toBe(400);
  expect(await response.json()).toMatchObject({ error: { code: "invalid_idempotency_key" } });
});

it("keeps keys per owner: the same key from two owners makes two jobs, and never reveals the other's", async () => {
  const key = `invoice-${crypto.randomUUID()}`;
  const alice = await postJson("/jobs", body, { "Idempotency-Key": key });
  // Bob's request differs, yet is no conflict: his key has never been used by him.
  const bob = await postJson("/jobs", { ...body, input: { intervalMs: 99 } }, { "Idempotency-Key": key }, BOB);
  expect([alice.status, bob.status]).toEqual([201, 201]);
  expect((await alice.json<CreatedJob>()).id).not.toBe((await bob.json<CreatedJob>()).id);
});

it("refuses an Idempotency-Key from an anonymous visitor (401): strangers share no scope", async () => {
  const response = await postJson("/jobs", body, { "Idempotency-Key": "invoice-1001", "CF-Connecting-IP": "192.0.2.77" }, null);
  expect(response.status).toBe(401);
  expect(await response.json()).toMatchObject({ error: { code: "unauthorized" } });
});

/** A create with this key, and the job's id. */
async function createKeyed(key: string, input: unknown = body.input): Promise<string> {
  const response = await postJson("/jobs", { ...body, input }, { "Idempotency-Key": key });
  expect(response.status).toBe(201);
  return (await response.json<CreatedJob>()).id;
}

const tables = (id: string) =>
  runInDurableObject(stubOf(id), (_, state) => state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray().map((row) => row.name));

it("keeps a deleted keyed job's link gone: its key again is a 409, never a new job behind the old link", async () => {
  const key = `deleted-${crypto.randomUUID()}`;
  const id = await createKeyed(key);
  expect((await SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: auth() })).status).toBe(204);
  // The id derives from the owner and the key: a new job would be made at the very link
  // shared for the deleted one, showing its input, log and result to whoever had that link.
  for (const input of [body.input, { intervalMs: 20 }]) {
    const error = await expectError(await postJson("/jobs", { ...body, input }, { "Idempotency-Key": key }), 409, "idempotency_key_reused");
    expect(error.message).toContain("deleted or expired");
  }
  await expectError(await SELF.fetch(`${BASE}/jobs/${id}`), 410, "gone");
  // What stays behind is the marker alone.
  expect(await tables(id)).toEqual(["retired"]);
  // A new key makes a new job, elsewhere.
  expect(await createKeyed(`${key}-2`)).not.toBe(id);
});

it("retires an expired keyed job's id too; a job made without a key leaves nothing", async () => {
  const key = `expired-${crypto.randomUUID()}`;
  const keyed = await createKeyed(key, { intervalMs: 0 });
  const plain = (await (await postJson("/jobs", { ...body, input: { intervalMs: 0 } })).json<CreatedJob>()).id;
  for (const id of [keyed, plain]) {
    const done = await runToEnd(id);
    clock.set(done.expiresAt!);
    expect(await runNextAlarm(id)).toBe(true);
  }
  await expectError(await postJson("/jobs", body, { "Idempotency-Key": key }), 409, "idempotency_key_reused");
  await expectError(await SELF.fetch(`${BASE}/jobs/${keyed}`), 410, "gone");
  expect(await tables(keyed)).toEqual(["retired"]);
  expect(await tables(plain)).toEqual([]);
});

it("retires the id of a keyed job made before jobs recorded `keyed` (a row without the column) when it is deleted", async () => {
  const key = `legacy-${crypto.randomUUID()}`;
  const id = await createKeyed(key);
  // The row as an older version wrote it: no `keyed` column.
  await runInDurableObject(stubOf(id), (_, state) => void state.storage.sql.exec("ALTER TABLE job DROP COLUMN keyed"));
  await evictDurableObject(stubOf(id));
  expect((await SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: auth() })).status).toBe(204);
  await expectError(await postJson("/jobs", body, { "Idempotency-Key": key }), 409, "idempotency_key_reused");
  expect(await tables(id)).toEqual(["retired"]);
});

it("retires an id in one transaction: a failure before the marker is written leaves the job whole", async () => {
  const id = await createKeyed(`atomic-${crypto.randomUUID()}`);
  await runInDurableObject(stubOf(id), (_, state) => {
    const sql = state.storage.sql;
    const exec = sql.exec.bind(sql);
    // The marker's write fails, as a crash there would leave it unwritten.
    sql.exec = ((query: string, ...bindings: SqlStorageValue[]) => {
      if (query.startsWith("INSERT INTO retired")) throw new Error("crash");
      return exec(query, ...bindings);
    }) as typeof sql.exec;
    try {
      expect(() => new JobStore(state.storage).retire(Date.now())).toThrow("crash");
    } finally {
      sql.exec = exec;
    }
  });
  expect(await tables(id)).toEqual(expect.arrayContaining(["job", "log"]));
  expect(await tables(id)).not.toContain("retired");
  expect((await snapshot(id)).state).toBe("queued");
});

it("makes one job of two creates with the same key at the same moment: one 201 with the control token, one 200", async () => {
  const key = `together-${crypto.randomUUID()}`;
  const answers = await Promise.all([1, 2].map(() => postJson("/jobs", body, { "Idempotency-Key": key })));
  expect(answers.map((r) => r.status).sort()).toEqual([200, 201]);
  const created = await Promise.all(answers.map((r) => r.json<CreatedJob>()));
  expect(created[0]!.id).toBe(created[1]!.id);
  expect(created.filter((c) => c.controlToken !== undefined)).toHaveLength(1);
  expect((await snapshot(created[0]!.id)).lastSeq).toBe(1);
});

it("refuses the second of two creates with the same key and different bodies at the same moment (409), whichever it is", async () => {
  const key = `apart-${crypto.randomUUID()}`;
  const bodies = [body, { ...body, input: { intervalMs: 20 } }];
  const answers = await Promise.all(bodies.map((b) => postJson("/jobs", b, { "Idempotency-Key": key })));
  expect(answers.map((r) => r.status).sort()).toEqual([201, 409]);
  const made = await answers.find((r) => r.status === 201)!.json<CreatedJob>();
  const winner = bodies[answers.findIndex((r) => r.status === 201)]!;
  expect((await snapshot(made.id)).input).toEqual(winner.input);
});

// A webhook attempt takes up to its timeout (10 s) when the receiver is slow; a job
// deleted meanwhile is gone when the answer comes: the attempt ends there, without an
// error in the alarm (which the platform would retry) and without arming another.
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { JOB_TYPES } from "../app/jobs";
import type { Env } from "../src/env";
import { createApp } from "../src/http/app";
import type { JobObject } from "../src/job/job-object";
import { JobRegistry } from "../src/jobs/registry";
import type { CreatedJob } from "../src/protocol";
import { alarmAt, auth, BASE, runNextAlarm, runToEnd, stubOf, useVirtualClock } from "./helpers";
import { TEST_SECRETS } from "./secrets";

useVirtualClock();

it("ends a webhook attempt quietly when its job was deleted while the receiver was slow to answer", async () => {
  const secret = `whsec_${btoa("k".repeat(32))}`;
  const deployment = { ...env, ...TEST_SECRETS, WEBHOOK_SECRET: secret, WEBHOOK_ORIGINS: "https://hooks.example" } as Env;
  const app = createApp({ types: new JobRegistry(JOB_TYPES) });
  const created = await app.request(`${BASE}/jobs`, {
    method: "POST", headers: { "Content-Type": "application/json", ...auth() },
    body: JSON.stringify({ type: "demo", input: { intervalMs: 0 }, webhook: { url: "https://hooks.example/jobs" } }),
  }, deployment);
  expect(created.status).toBe(201);
  const { id } = await created.json<CreatedJob>();
  await runToEnd(id);
  // The job's object signs with the deployment's secret (the test deployment has none).
  await runInDurableObject(stubOf(id), (instance: JobObject) => {
    Object.defineProperty(instance, "env", { value: { ...(instance as unknown as { env: Env }).env, WEBHOOK_SECRET: secret } });
  });
  // A receiver that answers only once the job has been deleted.
  let answer: (response: Response) => void = () => {};
  const receiver = vi.spyOn(globalThis, "fetch").mockImplementation(() => new Promise<Response>((resolve) => (answer = resolve)));
  const attempt = runNextAlarm(id);
  await vi.waitFor(() => expect(receiver).toHaveBeenCalledOnce());
  expect((await SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: auth() })).status).toBe(204);
  // Answered from the job's object, where the attempt's promise was made.
  await runInDurableObject(stubOf(id), () => answer(new Response(null, { status: 503 })));
  await expect(attempt).resolves.toBe(true);
  expect(await alarmAt(id)).toBeNull();
  expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(410);
});

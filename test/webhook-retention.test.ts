// A job with a completion webhook is kept until its webhook's last attempt, however short
// the deployment's RETENTION: erased first, its later attempts were dropped without a word.
import { env, SELF } from "cloudflare:test";
import { afterEach, expect, it, vi } from "vitest";
import { JOB_TYPES } from "../app/jobs";
import type { Env } from "../src/env";
import { createApp } from "../src/http/app";
import { MAX_ATTEMPTS } from "../src/job/webhook";
import { JobRegistry } from "../src/jobs/registry";
import type { CreatedJob } from "../src/protocol";
import { redeployed } from "./fixtures/jobs";
import { auth, BASE, runNextAlarm, runToEnd, useVirtualClock } from "./helpers";
import { TEST_SECRETS } from "./secrets";

useVirtualClock();
afterEach(() => {
  redeployed.vars = {};
  vi.restoreAllMocks();
});

it("keeps a job with a webhook past a short RETENTION until the webhook's last attempt, then erases it", async () => {
  const secret = `whsec_${btoa("k".repeat(32))}`;
  const vars = { RETENTION: "1 minute", WEBHOOK_SECRET: secret, WEBHOOK_ORIGINS: "https://hooks.example" };
  redeployed.vars = vars; // the job's object runs with them
  const app = createApp({ types: new JobRegistry(JOB_TYPES) });
  const created = await app.request(`${BASE}/jobs`, {
    method: "POST", headers: { "Content-Type": "application/json", ...auth() },
    body: JSON.stringify({ type: "demo", input: { intervalMs: 0 }, webhook: { url: "https://hooks.example/jobs" } }),
  }, { ...env, ...TEST_SECRETS, ...vars } as Env);
  expect(created.status).toBe(201);
  const { id } = await created.json<CreatedJob>();
  const done = await runToEnd(id);
  expect(done.expiresAt! - done.finishedAt!).toBeGreaterThan(13 * 60_000);
  // A receiver that is down throughout.
  const receiver = vi.spyOn(globalThis, "fetch").mockImplementation(() => Promise.resolve(new Response(null, { status: 503 })));
  let alarms = 0;
  while (await runNextAlarm(id)) expect(++alarms).toBeLessThan(20);
  expect(receiver).toHaveBeenCalledTimes(MAX_ATTEMPTS);
  expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(410);
});

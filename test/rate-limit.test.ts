// Creates are rate limited by the platform's Rate Limiting binding: anonymous visitors
// per IP (10 a minute, wrangler.toml), owners per owner.
import { env } from "cloudflare:test";
import { expect, it } from "vitest";
import type { Env } from "../src/env";
import { createApp } from "../src/http/app";
import { JOB_TYPES } from "../app/jobs";
import { JobRegistry } from "../src/jobs/registry";
import { postJson, useVirtualClock } from "./helpers";
import { ALICE, TEST_SECRETS } from "./secrets";

useVirtualClock();

it("answers an anonymous visitor's 11th create within a minute with 429 and Retry-After; other addresses go on", async () => {
  const ip = `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
  const create = (address: string) => postJson("/jobs", { type: "demo" }, { "CF-Connecting-IP": address }, null);
  for (let i = 0; i < 10; i++) expect((await create(ip)).status).toBe(201);
  const refused = await create(ip);
  expect(refused.status).toBe(429);
  expect(refused.headers.get("Retry-After")).toBe("60");
  expect(await refused.json()).toMatchObject({ error: { code: "rate_limited", message: expect.stringContaining("anonymous visitors from this address") } });
  expect((await create("198.19.0.1")).status).toBe(201);
});

it("limits owners by owner, not by address", async () => {
  const seen: string[] = [];
  const limiter: RateLimit = { limit: async ({ key }) => (seen.push(key), { success: false }) };
  const app = createApp({ types: new JobRegistry(JOB_TYPES) });
  const response = await app.request("http://jobs.test/jobs", {
    method: "POST", body: '{"type":"demo"}', headers: { "Content-Type": "application/json", Authorization: `Bearer ${ALICE}` },
  }, { ...env, ...TEST_SECRETS, OWNER_CREATE_LIMIT: limiter } as Env);
  expect(response.status).toBe(429);
  expect(await response.json()).toMatchObject({ error: { code: "rate_limited", message: expect.stringContaining("this owner") } });
  expect(seen).toEqual(["owner:alice"]);
});

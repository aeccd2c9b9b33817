// A dashboard session ends with the credential it was started with: an owner token taken
// out of API_TOKENS, or a JWT_SECRET that was changed, no longer signs its cookie's holder
// in, as the credential itself no longer would.
import { env } from "cloudflare:test";
import { sign } from "hono/jwt";
import { expect, it } from "vitest";
import { JOB_TYPES } from "../app/jobs";
import type { Env } from "../src/env";
import { createApp } from "../src/http/app";
import { JobRegistry } from "../src/jobs/registry";
import { BASE } from "./helpers";
import { ALICE, BOB, TEST_SECRETS } from "./secrets";

const app = createApp({ types: new JobRegistry(JOB_TYPES) });
const deployed = (overrides: Partial<Env> = {}) => ({ ...env, ...TEST_SECRETS, ...overrides }) as Env;

async function signIn(credential: string): Promise<string> {
  const response = await app.request(`${BASE}/session`, { method: "POST", body: new URLSearchParams({ credential }), redirect: "manual" }, deployed());
  expect(response.status).toBe(303);
  return response.headers.get("Set-Cookie")!.split(";")[0]!;
}

const listWith = (cookie: string, overrides: Partial<Env> = {}) => app.request(`${BASE}/jobs`, { headers: { Cookie: cookie } }, deployed(overrides));

it("ends a session whose owner token was taken out of API_TOKENS", async () => {
  const cookie = await signIn(ALICE);
  expect((await listWith(cookie)).status).toBe(200);
  // Alice's token is revoked (here: a new one in its place); Bob's session goes on.
  const rotated = { API_TOKENS: `alice=alice-new-token-0123456789abcdef,bob=${BOB}` };
  expect((await listWith(cookie, rotated)).status).toBe(401);
  expect((await listWith(await signIn(BOB), rotated)).status).toBe(200);
});

it("ends a session started with a JWT once JWT_SECRET changes", async () => {
  const jwt = await sign({ sub: "carol", exp: Math.floor(Date.now() / 1000) + 3600 }, TEST_SECRETS.JWT_SECRET, "HS256");
  const cookie = await signIn(jwt);
  expect((await listWith(cookie)).status).toBe(200);
  expect((await listWith(cookie, { JWT_SECRET: "another-jwt-secret-0123456789abcdef0123456789" })).status).toBe(401);
});

it("says so on the sign-in page when a session's cookie no longer signs anyone in, and clears it", async () => {
  const cookie = await signIn(ALICE);
  const rotated = { API_TOKENS: `alice=alice-new-token-0123456789abcdef,bob=${BOB}` };
  const page = await app.request(`${BASE}/dashboard`, { headers: { Cookie: cookie } }, deployed(rotated));
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("Your session has ended");
  // The stale cookie is cleared (the browser drops it), so the next visit is a plain sign-in.
  expect(page.headers.get("Set-Cookie")).toMatch(/^session=;.*Max-Age=0/);
});

it("says nothing of, and keeps, a `session` cookie this deployment did not sign (another app's, or one planted from a sibling domain)", async () => {
  const page = await app.request(`${BASE}/dashboard`, { headers: { Cookie: "session=another-apps-session-id" } }, deployed());
  expect(page.status).toBe(200);
  expect(await page.text()).not.toContain("Your session has ended");
  expect(page.headers.get("Set-Cookie")).toBeNull();
});

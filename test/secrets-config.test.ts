// A deployment with weak or missing secrets refuses its job routes (503) and says why in
// /health, instead of running with secrets an attacker could guess.
import { env } from "cloudflare:test";
import { expect, it } from "vitest";
import { readAccess } from "../src/access-config";
import type { Env } from "../src/env";
import { createApp } from "../src/http/app";
import { JOB_TYPES } from "../app/jobs";
import { JobRegistry } from "../src/jobs/registry";
import { ALICE, TEST_SECRETS } from "./secrets";

const app = createApp({ types: new JobRegistry(JOB_TYPES) });
const DEV = "dev-only-job-id-secret-not-for-production";

async function problemsOf(overrides: Partial<Env>, host = "https://jobs.example.com"): Promise<{ health: Response; create: Response }> {
  const deployed = { ...env, ...TEST_SECRETS, ...overrides } as Env;
  const health = await app.request(`${host}/health`, {}, deployed);
  const create = await app.request(`${host}/jobs`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"type":"demo"}' }, deployed);
  return { health, create };
}

it.each([
  [{ JOB_ID_SECRET: undefined }, "JOB_ID_SECRET is not set"],
  [{ JOB_ID_SECRET: "short-secret" }, "JOB_ID_SECRET is shorter than 32 bytes"],
  [{ JOB_ID_SECRET: DEV }, "JOB_ID_SECRET is the development value"],
  [{ JWT_SECRET: "too-short" }, "JWT_SECRET is shorter than 32 bytes"],
  [{ JOB_ID_SECRET_PREVIOUS: "too-short" }, "JOB_ID_SECRET_PREVIOUS is shorter than 32 bytes"],
  [{ JWT_SECRET_PREVIOUS: DEV }, "JWT_SECRET_PREVIOUS is the development value"],
  [{ JWT_SECRET: undefined, JWT_SECRET_PREVIOUS: TEST_SECRETS.JWT_SECRET }, "JWT_SECRET_PREVIOUS is set without JWT_SECRET"],
  // Base64 letters of a length that makes no bytes: a 500 on every route before.
  [{ WEBHOOK_SECRET: "whsec_short" }, "WEBHOOK_SECRET must be whsec_"],
  [{ WEBHOOK_SECRET_PREVIOUS: `whsec_${btoa("p".repeat(32))}` }, "WEBHOOK_SECRET_PREVIOUS is set without WEBHOOK_SECRET"],
  [{ WEBHOOK_SECRET: `whsec_${btoa("n".repeat(32))}`, WEBHOOK_SECRET_PREVIOUS: "whsec_short" }, "WEBHOOK_SECRET_PREVIOUS must be whsec_"],
  [{ API_TOKENS: "alice=short" }, "API_TOKENS pair 1: the token is shorter than 20 characters"],
  [{ API_TOKENS: "no-equals-sign-in-this-pair-at-all" }, "pair 1 is not owner=token"],
  [{ ALLOWED_ORIGINS: "https://app.example/path" }, "ALLOWED_ORIGINS lists"],
  // An app's wrangler.toml that names a binding otherwise (a create was a 500 "Internal error").
  [{ JOBS: undefined }, 'The Durable Object binding JOBS is missing: wrangler.toml needs [[durable_objects.bindings]] name = "JOBS", class_name = "JobObject"'],
  [{ INDEX: undefined }, "The Durable Object binding INDEX is missing"],
  // Vars that do not parse were silent fall-backs to their defaults, with /health ok.
  [{ RETENTION: "7 dayz" }, 'RETENTION is "7 dayz", which is not a duration'],
  [{ MAX_SUBSCRIBERS: "-5" }, 'MAX_SUBSCRIBERS is "-5", which is not a whole number above 0'],
  // wrangler.toml may give a number where a string is typed: reported too (it was a 500 on every route, /health included).
  [{ MAX_SUBSCRIBERS: -5 as unknown as string }, 'MAX_SUBSCRIBERS is "-5", which is not a whole number above 0'],
  [{ RETENTION: -1 as unknown as string }, 'RETENTION is "-1", which is not a duration'],
  [{ JOB_BUDGET: "steps=lots, bytes=64 MiB" }, 'JOB_BUDGET has "steps=lots", which is not'],
  [{ PUBLIC_JOB_BUDGET: "runtime=10 minutes" }, 'PUBLIC_JOB_BUDGET has "runtime=10 minutes"'],
  // Base64 of no whole bytes (a character cut off when pasted): atob threw, a 500 on every route, /health included.
  [{ WEBHOOK_SECRET: `whsec_${"A".repeat(41)}` }, "WEBHOOK_SECRET must be whsec_ and the base64 of 24 to 64 random bytes"],
  // wrangler.toml may give a list var as a TOML array or a boolean: read as text (it was a 500 on every route, /health included).
  [{ PUBLIC_JOB_TYPES: ["demo", "Echo"] as unknown as string }, 'PUBLIC_JOB_TYPES lists "Echo", which is not a job type of this Worker'],
  [{ ALLOWED_ORIGINS: false as unknown as string }, 'ALLOWED_ORIGINS lists "false", which is not an origin'],
  [{ WEBHOOK_ORIGINS: 8080 as unknown as string }, 'WEBHOOK_ORIGINS lists "8080", which is not an origin'],
  [{ JOB_BUDGET: 5000 as unknown as string }, 'JOB_BUDGET has "5000", which is not'],
  // A typo in PUBLIC_JOB_TYPES closed that type to visitors without a word.
  [{ PUBLIC_JOB_TYPES: "demo,Echo" }, 'PUBLIC_JOB_TYPES lists "Echo", which is not a job type of this Worker'],
] as [Partial<Env>, string][])("answers 503 and reports %o in /health", async (overrides, problem) => {
  const { health, create } = await problemsOf(overrides);
  expect(health.status).toBe(503);
  const body = await health.json<{ ok: boolean; problems: string[] }>();
  expect(body.ok).toBe(false);
  expect(body.problems.join("\n")).toContain(problem);
  expect(create.status).toBe(503);
  expect(await create.json()).toMatchObject({ error: { code: "misconfigured" } });
});

it("names neither a token nor an owner in a problem: /health is public", async () => {
  const { health } = await problemsOf({ API_TOKENS: "alice=short-token,bob" });
  const text = await health.text();
  expect(text).not.toContain("short-token");
  expect(text).not.toContain("alice");
});

it("accepts the published development values on a loopback host only", async () => {
  const local = await problemsOf({ JOB_ID_SECRET: DEV }, "http://127.0.0.1:8787");
  expect(local.health.status).toBe(200);
  expect(await local.health.json()).toEqual({ ok: true });
  expect((await readAccess({ ...env, JOB_ID_SECRET: DEV } as Env, false)).problems).toHaveLength(1);
});

it("answers a browser with a session cookie 503 too when the INDEX binding is missing (never a 500), and starts no session", async () => {
  const signIn = (deployed: Env) => app.request("https://jobs.example.com/session", { method: "POST", body: new URLSearchParams({ credential: ALICE }), redirect: "manual" }, deployed);
  const good = { ...env, ...TEST_SECRETS } as Env;
  const cookie = (await signIn(good)).headers.get("Set-Cookie")!.split(";")[0]!;
  const broken = { ...good, INDEX: undefined } as unknown as Env;
  for (const path of ["/health", "/jobs", "/dashboard"]) {
    expect((await app.request(`https://jobs.example.com${path}`, { headers: { Cookie: cookie } }, broken)).status, path).toBe(503);
  }
  expect((await signIn(broken)).status).toBe(503);
});

it("answers the start page 503 too, as a page saying why: its form could start nothing", async () => {
  const broken = { ...env, ...TEST_SECRETS, JOB_ID_SECRET: "short-secret" } as Env;
  const page = await app.request("https://jobs.example.com/", { headers: { Accept: "text/html" } }, broken);
  expect(page.status).toBe(503);
  expect(page.headers.get("Content-Type")).toContain("text/html");
  const html = await page.text();
  expect(html).toContain("This deployment is misconfigured: JOB_ID_SECRET is shorter than 32 bytes");
  expect(html).not.toContain('id="start"');
  const good = await app.request("https://jobs.example.com/", { headers: { Accept: "text/html" } }, { ...env, ...TEST_SECRETS } as Env);
  expect(good.status).toBe(200);
});

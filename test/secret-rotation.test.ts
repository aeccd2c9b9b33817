// Rotating a secret: with the old value as JOB_ID_SECRET_PREVIOUS or JWT_SECRET_PREVIOUS,
// the links and JWTs it made keep working while new ones use the new value; once the
// previous value is dropped, they stop, and so do dashboard sessions their JWTs started.
import { env, SELF } from "cloudflare:test";
import { sign } from "hono/jwt";
import { expect, it } from "vitest";
import { JOB_TYPES } from "../app/jobs";
import type { Env } from "../src/env";
import { createApp } from "../src/http/app";
import { isGenuineJobId } from "../src/http/job-id";
import { JobRegistry } from "../src/jobs/registry";
import type { CreatedJob } from "../src/protocol";
import { BASE, postJson } from "./helpers";
import { TEST_SECRETS } from "./secrets";

const app = createApp({ types: new JobRegistry(JOB_TYPES) });
const deployed = (overrides: Partial<Env> = {}) => ({ ...env, ...TEST_SECRETS, ...overrides }) as Env;
const NEW_JOB_ID_SECRET = "rotated-job-id-secret-0123456789abcdef0123";
const NEW_JWT_SECRET = "rotated-jwt-secret-0123456789abcdef01234567";
const jwt = (secret: string) => sign({ sub: "carol", exp: Math.floor(Date.now() / 1000) + 3600 }, secret, "HS256");

it("keeps the links of jobs made before a JOB_ID_SECRET rotation while the old secret is JOB_ID_SECRET_PREVIOUS; new ids use the new one", async () => {
  const { id } = await (await postJson("/jobs", { type: "demo", input: { intervalMs: 0 } })).json<CreatedJob>();
  const rotating = deployed({ JOB_ID_SECRET: NEW_JOB_ID_SECRET, JOB_ID_SECRET_PREVIOUS: TEST_SECRETS.JOB_ID_SECRET });
  const read = (vars: Env) => app.request(`${BASE}/jobs/${id}`, {}, vars);
  expect((await read(rotating)).status).toBe(200);
  // Minted during the rotation: tagged with the new secret alone.
  const created = await app.request(`${BASE}/jobs`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"type":"demo","input":{"intervalMs":0}}' }, rotating);
  expect(created.status).toBe(201);
  const fresh = (await created.json<CreatedJob>()).id;
  expect(await isGenuineJobId([NEW_JOB_ID_SECRET], fresh)).toBe(true);
  expect(await isGenuineJobId([TEST_SECRETS.JOB_ID_SECRET], fresh)).toBe(false);
  // The rotation over: the old links are refused, as forged ones are.
  const rotated = deployed({ JOB_ID_SECRET: NEW_JOB_ID_SECRET });
  expect((await read(rotated)).status).toBe(404);
  expect((await app.request(`${BASE}/jobs/${fresh}`, {}, rotated)).status).toBe(200);
  expect((await SELF.fetch(`${BASE}/jobs/${fresh}`)).status).toBe(404); // never under the old secret alone
});

it("takes JWTs signed with JWT_SECRET_PREVIOUS during a rotation, and not after", async () => {
  const list = (token: string, vars: Env) => app.request(`${BASE}/jobs`, { headers: { Authorization: `Bearer ${token}` } }, vars);
  const rotating = deployed({ JWT_SECRET: NEW_JWT_SECRET, JWT_SECRET_PREVIOUS: TEST_SECRETS.JWT_SECRET });
  const old = await jwt(TEST_SECRETS.JWT_SECRET);
  expect((await list(old, rotating)).status).toBe(200);
  expect((await list(await jwt(NEW_JWT_SECRET), rotating)).status).toBe(200);
  expect((await list(await jwt("some-other-secret-0123456789abcdef0123456"), rotating)).status).toBe(401);
  expect((await list(old, deployed({ JWT_SECRET: NEW_JWT_SECRET }))).status).toBe(401);
});

it("ends a dashboard session a previous key's JWT started once that key is dropped; one the new key's started goes on", async () => {
  const rotating = deployed({ JWT_SECRET: NEW_JWT_SECRET, JWT_SECRET_PREVIOUS: TEST_SECRETS.JWT_SECRET });
  const signIn = async (credential: string) => {
    const response = await app.request(`${BASE}/session`, { method: "POST", body: new URLSearchParams({ credential }), redirect: "manual" }, rotating);
    expect(response.status).toBe(303);
    return response.headers.get("Set-Cookie")!.split(";")[0]!;
  };
  const list = (cookie: string, vars: Env) => app.request(`${BASE}/jobs`, { headers: { Cookie: cookie } }, vars);
  const byOld = await signIn(await jwt(TEST_SECRETS.JWT_SECRET));
  const byNew = await signIn(await jwt(NEW_JWT_SECRET));
  expect((await list(byOld, rotating)).status).toBe(200);
  const rotated = deployed({ JWT_SECRET: NEW_JWT_SECRET });
  expect((await list(byOld, rotated)).status).toBe(401);
  expect((await list(byNew, rotated)).status).toBe(200);
});

it("rotates an owner token by listing a new one beside the old in API_TOKENS, then removing the old", async () => {
  const list = (token: string, tokens: string) => app.request(`${BASE}/jobs`, { headers: { Authorization: `Bearer ${token}` } }, deployed({ API_TOKENS: tokens }));
  const [old, fresh] = ["alice-old-token-0123456789abcdef", "alice-new-token-0123456789abcdef"];
  expect((await list(old, `alice=${old},alice=${fresh}`)).status).toBe(200);
  expect((await list(fresh, `alice=${old},alice=${fresh}`)).status).toBe(200);
  expect((await list(old, `alice=${fresh}`)).status).toBe(401);
});

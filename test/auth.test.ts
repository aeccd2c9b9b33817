// Who may create what: owners by token or JWT, anonymous visitors only the public types.
import { SELF } from "cloudflare:test";
import { sign } from "hono/jwt";
import { expect, it } from "vitest";
import type { AccessConfig } from "../src/access-config";
import { createRefusal, JWT_CLOCK_SKEW_S } from "../src/http/auth";
import { ticker } from "../app/jobs/ticker";
import type { CreatedJob, JobTypeInfo } from "../src/protocol";
import { BASE, postJson, snapshot, useVirtualClock } from "./helpers";
import { ALICE, TEST_SECRETS } from "./secrets";

useVirtualClock();

const jwt = (claims: Record<string, unknown>, secret = TEST_SECRETS.JWT_SECRET) => sign(claims, secret, "HS256");
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const anonymously = { "CF-Connecting-IP": "198.51.100.7" };

async function expectRefusal(response: Response, status: number, code: string): Promise<string> {
  expect(response.status).toBe(status);
  const body = await response.json<{ error: { code: string; message: string } }>();
  expect(body.error.code).toBe(code);
  if (status === 401) expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="jobs"');
  return body.error.message;
}

it("lets anonymous visitors create the public types only: others answer 401 with WWW-Authenticate", async () => {
  expect((await postJson("/jobs", { type: "demo" }, anonymously, null)).status).toBe(201);
  for (const type of ["ticker", "test-counter"]) {
    const message = await expectRefusal(await postJson("/jobs", { type }, anonymously, null), 401, "unauthorized");
    expect(message).toContain("needs credentials");
  }
});

it("refuses a wrong or malformed token with 401 even on routes open to anonymous visitors", async () => {
  for (const header of ["Bearer not-a-token-of-this-deployment", "Basic YWxpY2U6cHc=", "Bearer", `Bearer ${ALICE}x`]) {
    const response = await SELF.fetch(`${BASE}/jobs`, { method: "POST", headers: { Authorization: header, "Content-Type": "application/json" }, body: '{"type":"demo"}' });
    await expectRefusal(response, 401, "unauthorized");
  }
  await expectRefusal(await SELF.fetch(`${BASE}/job-types`, { headers: { Authorization: "Bearer nope-nope-nope-nope-nope" } }), 401, "unauthorized");
});

it("names the size limit when a bearer credential is too long to be one", async () => {
  const response = await SELF.fetch(`${BASE}/job-types`, { headers: { Authorization: `Bearer ${"a".repeat(4_097)}` } });
  expect(response.status).toBe(401);
  expect((await response.json<{ error: { message: string } }>()).error.message).toBe("A token or JWT has at most 4096 characters");
});

it("accepts a JWT from the deployer's backend: sub is the owner, types limits what it may create", async () => {
  const token = await jwt({ sub: "carol", exp: inAnHour(), types: ["demo", "test-counter"] });
  const created = await postJson("/jobs", { type: "test-counter" }, {}, token);
  expect(created.status).toBe(201);
  const message = await expectRefusal(await postJson("/jobs", { type: "ticker" }, {}, token), 403, "forbidden");
  expect(message).toContain('may not create "ticker"');
  // Without a types claim, every type.
  expect((await postJson("/jobs", { type: "ticker", input: { count: 1 } }, {}, await jwt({ sub: "carol", exp: inAnHour() }))).status).toBe(201);
});

it("refuses expired, wrongly signed, exp-less and sub-less JWTs with 401", async () => {
  const cases: [Record<string, unknown>, string | undefined, string][] = [
    [{ sub: "carol", exp: Math.floor(Date.now() / 1000) - 10 }, undefined, "expired"],
    [{ sub: "carol", exp: inAnHour() }, "another-secret-0123456789abcdef0123456789", "not valid"],
    [{ sub: "carol" }, undefined, "exp"],
    [{ exp: inAnHour() }, undefined, "sub"],
    [{ sub: "carol", exp: inAnHour(), types: "demo" }, undefined, "types"],
    // Over the cap, it says so: "must be a list" alone read as a claim of the wrong shape.
    [{ sub: "carol", exp: inAnHour(), types: Array.from({ length: 101 }, (_, i) => `t${i}`) }, undefined, "at most 100 job types"],
  ];
  for (const [claims, secret, words] of cases) {
    const message = await expectRefusal(await postJson("/jobs", { type: "demo" }, {}, await jwt(claims, secret)), 401, "unauthorized");
    expect(message).toContain(words);
  }
});

it("refuses a JWT whose exp is not a number as not valid, not as expired", async () => {
  for (const exp of [String(inAnHour()), "tomorrow", null, true, { seconds: inAnHour() }]) {
    const message = await expectRefusal(await postJson("/jobs", { type: "demo" }, {}, await jwt({ sub: "carol", exp })), 401, "unauthorized");
    expect(message).toContain("not valid");
    expect(message).toContain("`exp` must be a number of seconds");
    expect(message).not.toContain("expired");
  }
  // Past its exp but signed with another secret: the signature is what is wrong with it.
  const forged = await jwt({ sub: "carol", exp: Math.floor(Date.now() / 1000) - 10 }, "another-secret-0123456789abcdef0123456789");
  expect(await expectRefusal(await postJson("/jobs", { type: "demo" }, {}, forged), 401, "unauthorized")).toContain("not valid");
});

it("refuses a signed JWT whose payload is no set of claims (null, a list, a number) with 401, on the API and at sign-in", async () => {
  for (const payload of [null, [], 42]) {
    const token = await jwt(payload as unknown as Record<string, unknown>);
    expect(await expectRefusal(await postJson("/jobs", { type: "demo" }, {}, token), 401, "unauthorized")).toContain("not valid");
    const signIn = await SELF.fetch(`${BASE}/session`, { method: "POST", body: new URLSearchParams({ credential: token }), redirect: "manual" });
    expect(signIn.status).toBe(401);
  }
});

it("accepts a JWT minted by a backend whose clock runs a little ahead (iat, nbf a moment in our future); refuses one not valid for long yet", async () => {
  const now = Math.floor(Date.now() / 1000);
  // jsonwebtoken adds `iat` by default: a backend 2 s ahead makes every fresh JWT "from the future".
  for (const claims of [{ iat: now + 2 }, { nbf: now + 2 }, { iat: now + JWT_CLOCK_SKEW_S, nbf: now + JWT_CLOCK_SKEW_S }]) {
    expect((await postJson("/jobs", { type: "demo" }, {}, await jwt({ sub: "carol", exp: inAnHour(), ...claims }))).status).toBe(201);
  }
  const early = await jwt({ sub: "carol", exp: inAnHour(), nbf: now + 3600 });
  expect(await expectRefusal(await postJson("/jobs", { type: "demo" }, {}, early), 401, "unauthorized")).toContain("not valid yet");
  // Past the skew by more than the seconds this test may take (the server's clock moves on).
  const future = await jwt({ sub: "carol", exp: inAnHour(), iat: now + JWT_CLOCK_SKEW_S + 30 });
  expect(await expectRefusal(await postJson("/jobs", { type: "demo" }, {}, future), 401, "unauthorized")).toContain("issued in the future");
  const odd = await jwt({ sub: "carol", exp: inAnHour(), nbf: "soon" });
  expect(await expectRefusal(await postJson("/jobs", { type: "demo" }, {}, odd), 401, "unauthorized")).toContain("`nbf` must be a number");
});

it("never lets anonymous visitors create an owners-only type, even one PUBLIC_JOB_TYPES lists", () => {
  const access = { publicTypes: new Set(["ticker", "demo"]) } as unknown as AccessConfig;
  expect(createRefusal({ kind: "anonymous", ip: "x" }, ticker, access)?.status).toBe(401);
  expect(createRefusal({ kind: "owner", owner: "alice" }, ticker, access)).toBeNull();
});

it("lists the types the caller may create", async () => {
  const list = async (headers: Record<string, string>) =>
    (await (await SELF.fetch(`${BASE}/job-types`, { headers })).json<{ types: JobTypeInfo[] }>()).types.map((t) => t.type);
  expect(await list({})).toEqual(["demo", "primes", "flaky", "sleepy", "echo"]);
  expect(await list({ Authorization: `Bearer ${ALICE}` })).toEqual(expect.arrayContaining(["ticker", "test-counter", "demo"]));
});

it("refuses input fields the job type does not know, naming them", async () => {
  const response = await postJson("/jobs", { type: "flaky", input: { fatal2: true } });
  expect(response.status).toBe(400);
  const body = await response.json<{ error: { code: string; issues: { path: string }[] } }>();
  expect(body.error.code).toBe("invalid_input");
  expect(body.error.issues).toEqual([expect.objectContaining({ path: "fatal2" })]);
});

it("builds answer URLs from PUBLIC_ORIGIN, not from the request's Host", async () => {
  const response = await SELF.fetch("http://attacker.test/jobs", {
    method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${ALICE}` }, body: '{"type":"demo"}',
  });
  const body = await response.json<CreatedJob>();
  expect(body.urls.self).toBe(`http://jobs.test/jobs/${body.id}`);
  expect(response.headers.get("Location")).toBe(body.urls.self);
  expect((await snapshot(body.id)).id).toBe(body.id);
});

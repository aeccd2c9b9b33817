// The dashboard's session: signing in with a token or JWT sets an HttpOnly cookie; the
// cookie authenticates the owner's pages and reads; anything it changes needs the
// session's CSRF token; "run again" makes a new job of the same type, input and tags.
import { SELF } from "cloudflare:test";
import { sign } from "hono/jwt";
import { expect, it } from "vitest";
import type { CreatedJob, JobList, JobSnapshot } from "../src/protocol";
import { auth, BASE, createJob, postJson, snapshot, useVirtualClock } from "./helpers";
import { ALICE, BOB, TEST_SECRETS } from "./secrets";

useVirtualClock();

async function signIn(credential: string): Promise<{ cookie: string; csrf: string }> {
  const response = await SELF.fetch(`${BASE}/session`, { method: "POST", body: new URLSearchParams({ credential }), redirect: "manual" });
  expect(response.status).toBe(303);
  const setCookie = response.headers.get("Set-Cookie")!;
  expect(setCookie).toMatch(/^session=[\w.-]+; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
  const cookie = setCookie.split(";")[0]!;
  const page = await (await SELF.fetch(`${BASE}/dashboard`, { headers: { Cookie: cookie } })).text();
  const csrf = /name="csrf" value="([\w-]+)"/.exec(page)![1]!;
  return { cookie, csrf };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields);
/** What a browser's navigation (a form's post included) sends. */
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

it("asks for a token or JWT, refuses a wrong one, and never keeps the credential in the cookie", async () => {
  const page = await (await SELF.fetch(`${BASE}/dashboard`)).text();
  expect(page).toContain('<form id="sign-in"');
  expect(page).toMatch(/<title>Sign in[^<]*<\/title>[\s\S]*<h1>Sign in<\/h1>/); // the tab and the heading agree
  const refused = await SELF.fetch(`${BASE}/session`, { method: "POST", body: form({ credential: "not-a-valid-token-at-all" }), headers: { Accept: BROWSER_ACCEPT } });
  expect(refused.status).toBe(401);
  expect(await refused.text()).toContain("Not signed in");
  // A program gets the JSON error every route answers, not the page.
  const asProgram = await SELF.fetch(`${BASE}/session`, { method: "POST", body: form({ credential: "not-a-valid-token-at-all" }), headers: { Accept: "application/json" } });
  expect(asProgram.status).toBe(401);
  expect(await asProgram.json()).toMatchObject({ error: { code: "unauthorized" } });
  const { cookie } = await signIn(ALICE);
  expect(cookie).not.toContain(ALICE);
});

it("refuses at sign-in a credential longer than any may be, saying so (it said only: paste a token or a JWT)", async () => {
  const response = await SELF.fetch(`${BASE}/session`, { method: "POST", body: form({ credential: "a".repeat(4_097) }), redirect: "manual" });
  expect(response.status).toBe(400);
  expect(await response.text()).toContain("longer than one may be (4096 characters)");
});

it("refuses at sign-in a JWT whose types would make a cookie too long to keep, saying why", async () => {
  const types = Array.from({ length: 100 }, (_, i) => `type-${String(i).padStart(3, "0")}-${"t".repeat(16)}`);
  const jwt = await sign({ sub: "alice", exp: Math.floor(Date.now() / 1000) + 3600, types }, TEST_SECRETS.JWT_SECRET, "HS256");
  expect(jwt.length).toBeLessThanOrEqual(4_096); // a credential the API takes
  const response = await SELF.fetch(`${BASE}/session`, { method: "POST", body: form({ credential: jwt }), redirect: "manual" });
  expect(response.status).toBe(400);
  expect(response.headers.get("Set-Cookie")).toBeNull();
  expect(await response.text()).toContain("too long to keep in a dashboard session");
});

it("shows the owner's jobs and counts, and the cookie authenticates reads", async () => {
  const id = await createJob("demo", { intervalMs: 0 });
  const { cookie } = await signIn(ALICE);
  const page = await (await SELF.fetch(`${BASE}/dashboard`, { headers: { Cookie: cookie } })).text();
  expect(page).toContain(`data-job="${id}"`);
  expect(page).toMatch(/Queued <span id="count-queued">\d+<\/span>/);
  const list = await SELF.fetch(`${BASE}/jobs?limit=5`, { headers: { Cookie: cookie } });
  expect(list.status).toBe(200);
  expect((await list.json<JobList>()).jobs.map((j) => j.id)).toContain(id);
  // Bob's session shows none of Alice's jobs.
  const bob = await signIn(BOB);
  expect(await (await SELF.fetch(`${BASE}/dashboard`, { headers: { Cookie: bob.cookie } })).text()).not.toContain(`data-job="${id}"`);
});

it("sends a filter with empty fields on to the URL without them; empty is no filter anywhere", async () => {
  const { cookie } = await signIn(ALICE);
  const open = (query: string) => SELF.fetch(`${BASE}/dashboard${query}`, { headers: { Cookie: cookie }, redirect: "manual" });
  const cases: [string, string][] = [["?state=&type=&tag=nightly", "/dashboard?tag=nightly"], ["?state=&type=&tag=", "/dashboard"], ["?type=echo&tag=&limit=5", "/dashboard?type=echo&limit=5"]];
  for (const [query, clean] of cases) {
    const response = await open(query);
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe(clean);
  }
  expect((await open("?state=queued&tag=nightly")).status).toBe(200);
  // A link's own parameters (the API's list refuses them) leave the dashboard be.
  expect((await open("?state=queued&utm_source=newsletter")).status).toBe(200);
  // The API takes empty parameters as absent too.
  const list = async (query: string) => (await (await SELF.fetch(`${BASE}/jobs${query}`, { headers: auth() })).json<JobList>()).jobs.map((j) => j.id);
  expect(await list("?state=&type=&tag=&cursor=&limit=")).toEqual(await list(""));
});

it("says a later page whose jobs have all gone has none left, not that no job matches", async () => {
  const tag = `gone-${crypto.randomUUID().slice(0, 8)}`;
  const ids = [await createJob("demo", { intervalMs: 0 }, { tags: [tag] }), await createJob("demo", { intervalMs: 0 }, { tags: [tag] })];
  const { cookie } = await signIn(ALICE);
  const first = await (await SELF.fetch(`${BASE}/dashboard?tag=${tag}&limit=1`, { headers: { Cookie: cookie } })).text();
  const shown = /data-job="([^"]+)"/.exec(first)![1]!;
  const older = /id="older" href="([^"]+)"/.exec(first)![1]!.replaceAll("&amp;", "&");
  // The job of the older page is deleted before it is opened.
  expect((await SELF.fetch(`${BASE}/jobs/${ids.find((id) => id !== shown)}`, { method: "DELETE", headers: auth() })).status).toBe(204);
  const later = await (await SELF.fetch(BASE + older, { headers: { Cookie: cookie } })).text();
  expect(later).not.toContain("data-job=");
  expect(later).toContain('<p id="none-here" class="empty" >No jobs left on this page.</p>');
  expect(later).toMatch(/<p id="no-jobs" class="empty" hidden>/);
});

it("refuses changes made with the session cookie but without its CSRF token, or from another site", async () => {
  const id = await createJob("sleepy", { duration: "1 minute" });
  const { cookie, csrf } = await signIn(ALICE);
  const cancel = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    SELF.fetch(`${BASE}/jobs/${id}/cancel`, { method: "POST", redirect: "manual", body: form(fields), headers: { Cookie: cookie, ...headers } });
  const missing = await cancel({ back: "dashboard" });
  expect(missing.status).toBe(403);
  expect(await missing.json()).toMatchObject({ error: { code: "csrf" } });
  expect((await cancel({ back: "dashboard", csrf: "wrong" })).status).toBe(403);
  expect((await cancel({ back: "dashboard", csrf }, { Origin: "https://evil.example" })).status).toBe(403);
  expect((await snapshot(id)).state).toBe("queued");
  const canceled = await cancel({ back: "/dashboard", csrf });
  expect(canceled.status).toBe(303);
  expect(canceled.headers.get("Location")).toBe("/dashboard");
  expect((await snapshot(id)).state).toBe("canceled");
});

it("sends a row's cancel back to the dashboard page it was on, and keeps a page size through the filter form", async () => {
  const id = await createJob("sleepy", { duration: "1 minute" }, { tags: ["nightly"] });
  const { cookie, csrf } = await signIn(ALICE);
  const page = await (await SELF.fetch(`${BASE}/dashboard?state=queued&tag=nightly&limit=5`, { headers: { Cookie: cookie } })).text();
  expect(page).toContain('<input type="hidden" name="back" value="/dashboard?state=queued&amp;tag=nightly&amp;limit=5">');
  expect(page).toContain('<input type="hidden" name="limit" value="5">');
  const cancel = async (back: string) => {
    const response = await SELF.fetch(`${BASE}/jobs/${id}/cancel`, { method: "POST", redirect: "manual", body: form({ back, csrf }), headers: { Cookie: cookie } });
    expect(response.status).toBe(303);
    return response.headers.get("Location");
  };
  expect(await cancel("/dashboard?state=queued&tag=nightly&limit=5")).toBe("/dashboard?state=queued&tag=nightly&limit=5");
  // Only the dashboard's own parameters go back, and only to the dashboard.
  expect(await cancel("/dashboard?tag=nightly&next=https://evil.example&type=")).toBe("/dashboard?tag=nightly");
  expect(await cancel("/dashboard/../evil")).toBe("/dashboard");
  expect(await cancel("//evil.example/dashboard")).toBe(`${BASE}/jobs/${id}`);
  // The default page size is not written out.
  expect(await (await SELF.fetch(`${BASE}/dashboard`, { headers: { Cookie: cookie } })).text()).not.toContain('name="limit"');
});

it("runs a job again for its owner: same type, input and tags, a new id", async () => {
  const created = await (await postJson("/jobs", { type: "echo", input: { lines: ["again"], delayMs: 0 }, tags: ["nightly"] })).json<CreatedJob>();
  const { cookie, csrf } = await signIn(ALICE);
  const again = await SELF.fetch(`${BASE}/jobs/${created.id}/rerun`, { method: "POST", redirect: "manual", body: form({ csrf }), headers: { Cookie: cookie } });
  expect(again.status).toBe(303);
  const id = again.headers.get("Location")!.split("/").pop()!;
  expect(id).not.toBe(created.id);
  expect(await snapshot(id)).toMatchObject({ type: "echo", input: { lines: ["again"], delayMs: 0 }, tags: ["nightly"], state: "queued" });
  // With a token it answers JSON; another owner may not.
  const byToken = await SELF.fetch(`${BASE}/jobs/${created.id}/rerun`, { method: "POST", headers: auth() });
  expect(byToken.status).toBe(201);
  expect((await byToken.json<CreatedJob>()).controlToken).toBeDefined();
  expect((await SELF.fetch(`${BASE}/jobs/${created.id}/rerun`, { method: "POST", headers: auth(BOB) })).status).toBe(403);
  expect((await SELF.fetch(`${BASE}/jobs/${created.id}/rerun`, { method: "POST" })).status).toBe(401);
});

it("signs out, and treats a stale or forged session cookie as signed out", async () => {
  const { cookie, csrf } = await signIn(ALICE);
  const out = await SELF.fetch(`${BASE}/session/end`, { method: "POST", redirect: "manual", body: form({ csrf }), headers: { Cookie: cookie } });
  expect(out.status).toBe(303);
  expect(out.headers.get("Set-Cookie")).toMatch(/^session=; Max-Age=0; Path=\//);
  // A copy of the cookie taken before the sign-out is signed out too; another session is not.
  expect(await (await SELF.fetch(`${BASE}/dashboard`, { headers: { Cookie: cookie } })).text()).toContain('<form id="sign-in"');
  expect((await SELF.fetch(`${BASE}/jobs`, { headers: { Cookie: cookie } })).status).toBe(401);
  const other = await signIn(ALICE);
  expect((await SELF.fetch(`${BASE}/jobs`, { headers: { Cookie: other.cookie } })).status).toBe(200);
  const forged = `session=${cookie.slice("session=".length, -4)}AAAA`;
  expect(await (await SELF.fetch(`${BASE}/dashboard`, { headers: { Cookie: forged } })).text()).toContain('<form id="sign-in"');
  const anonymous = await SELF.fetch(`${BASE}/jobs`, { headers: { Cookie: forged } });
  expect(anonymous.status).toBe(401);
  expect(((await (await SELF.fetch(`${BASE}/jobs/${await createJob("demo")}`, { headers: { Cookie: forged } })).json()) as JobSnapshot).usage).toBeUndefined();
});

it("on https names the cookie __Host-session, so a sibling subdomain cannot plant a session; a plain `session` there is no session", async () => {
  const secure = BASE.replace(/^http:/, "https:");
  const response = await SELF.fetch(`${secure}/session`, { method: "POST", body: form({ credential: ALICE }), redirect: "manual" });
  expect(response.status).toBe(303);
  const setCookie = response.headers.get("Set-Cookie")!;
  expect(setCookie).toMatch(/^__Host-session=[\w.-]+; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  const value = setCookie.split(";")[0]!.slice("__Host-session=".length);
  expect((await SELF.fetch(`${secure}/jobs`, { headers: { Cookie: `__Host-session=${value}` } })).status).toBe(200);
  // The same signed value under the name any subdomain may set for the parent domain is not read.
  expect((await SELF.fetch(`${secure}/jobs`, { headers: { Cookie: `session=${value}` } })).status).toBe(401);
  const csrf = /name="csrf" value="([\w-]+)"/.exec(await (await SELF.fetch(`${secure}/dashboard`, { headers: { Cookie: `__Host-session=${value}` } })).text())![1]!;
  const out = await SELF.fetch(`${secure}/session/end`, { method: "POST", redirect: "manual", body: form({ csrf }), headers: { Cookie: `__Host-session=${value}` } });
  expect(out.headers.get("Set-Cookie")).toMatch(/^__Host-session=; Max-Age=0; Path=\/; Secure/);
});

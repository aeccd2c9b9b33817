// Browsers acting for a visitor: forms and WebSockets from other sites are refused; the
// deployment's own pages, ALLOWED_ORIGINS (https://app.example in the tests) and
// Origin-less clients (curl, servers) are not.
import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import type { CreatedJob } from "../src/protocol";
import { auth, BASE, createJob, postJson, snapshot, UPGRADE, useVirtualClock } from "./helpers";

useVirtualClock();

const OWN = "http://jobs.test";
const EVIL = "https://evil.example";

function formPost(path: string, headers: Record<string, string>, body = "type=demo"): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, {
    method: "POST", redirect: "manual", body,
    headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": "192.0.2.33", ...headers },
  });
}

it("refuses form posts from another site (403), create and cancel alike", async () => {
  const refused = await formPost("/jobs", { Origin: EVIL });
  expect(refused.status).toBe(403);
  expect(await refused.json()).toMatchObject({ error: { code: "forbidden" } });
  expect((await formPost("/jobs", { "Sec-Fetch-Site": "cross-site" })).status).toBe(403);

  const { id, controlToken } = await (await postJson("/jobs", { type: "sleepy", input: { duration: "1 minute" } })).json<CreatedJob>();
  const cancel = await formPost(`/jobs/${id}/cancel`, { Origin: EVIL, "Control-Token": controlToken!, ...auth() }, "");
  expect(cancel.status).toBe(403);
  expect((await snapshot(id)).state).toBe("queued");
});

it("accepts form posts from its own pages and from clients that send no Origin", async () => {
  expect((await formPost("/jobs", { Origin: OWN })).status).toBe(303);
  expect((await formPost("/jobs", { "Sec-Fetch-Site": "same-origin" })).status).toBe(303);
  expect((await formPost("/jobs", {})).status).toBe(303);
});

it("refuses WebSocket upgrades from other sites, allows its own, listed ones and Origin-less clients", async () => {
  const id = await createJob("demo");
  const upgrade = (origin?: string) =>
    SELF.fetch(`${BASE}/jobs/${id}/ws`, { headers: { ...UPGRADE, ...(origin ? { Origin: origin } : {}) } });
  const refused = await upgrade(EVIL);
  expect(refused.status).toBe(403);
  expect(await refused.json()).toMatchObject({ error: { code: "forbidden_origin" } });
  for (const origin of [OWN, "https://app.example", undefined]) {
    const accepted = await upgrade(origin);
    expect(accepted.status).toBe(101);
    accepted.webSocket!.accept();
    accepted.webSocket!.close(1000, "done");
  }
});

it("answers CORS preflights for ALLOWED_ORIGINS only", async () => {
  const preflight = (origin: string) => SELF.fetch(`${BASE}/jobs`, {
    method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type" },
  });
  const allowed = await preflight("https://app.example");
  expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
  expect(allowed.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
  expect((await preflight(EVIL)).headers.get("Access-Control-Allow-Origin")).toBeNull();
});

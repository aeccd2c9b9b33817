// Security headers on every kind of answer, and no answer is cached: each is per job or per
// caller (the static assets, served before the Worker, aside: test/e2e/assets.test.ts).
import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import { auth, BASE, createJob, runToEnd, useVirtualClock } from "./helpers";

useVirtualClock();

function expectSecureHeaders(response: Response): void {
  expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
  expect(response.headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
  expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
  expect(response.headers.get("Strict-Transport-Security")).toContain("max-age=");
  expect(response.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
}

it("sends security headers on JSON, streams, redirects, errors and pages, and no-store on every answer (each is per job or per caller)", async () => {
  const id = await createJob("demo", { intervalMs: 0 });
  await runToEnd(id);
  const answers = {
    json: await SELF.fetch(`${BASE}/jobs/${id}`),
    events: await SELF.fetch(`${BASE}/jobs/${id}/events`),
    sse: await SELF.fetch(`${BASE}/jobs/${id}/sse`),
    text: await SELF.fetch(`${BASE}/jobs/${id}/stream`),
    redirect: await SELF.fetch(`${BASE}/jobs`, { method: "POST", redirect: "manual", body: new URLSearchParams({ type: "demo" }), headers: auth() }),
    error: await SELF.fetch(`${BASE}/jobs/${id}/cancel`, { method: "POST" }),
    page: await SELF.fetch(`${BASE}/jobs/${id}`, { headers: { Accept: "text/html" } }),
    notFound: await SELF.fetch(`${BASE}/nope`),
    // Per caller: what a visitor may start, or an owner's jobs.
    home: await SELF.fetch(`${BASE}/`, { headers: { Accept: "text/html" } }),
    dashboard: await SELF.fetch(`${BASE}/dashboard`, { headers: { Accept: "text/html", ...auth() } }),
    types: await SELF.fetch(`${BASE}/job-types`, { headers: auth() }),
    openapi: await SELF.fetch(`${BASE}/openapi.json`, { headers: auth() }),
  };
  expect(answers.redirect.status).toBe(303);
  expect(answers.error.status).toBe(401);
  for (const [name, response] of Object.entries(answers)) {
    expectSecureHeaders(response);
    expect(response.headers.get("Cache-Control"), name).toMatch(/no-store/);
    await response.body?.cancel();
  }
});

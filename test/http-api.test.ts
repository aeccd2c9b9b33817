// The HTTP API's answers, error paths included: each with its status and JSON body,
// never a 500, and never an object addressed for an id the Worker can refuse.
import { env, listDurableObjectIds, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { issueMessage } from "../src/http/create-request";
import { mintJobId } from "../src/http/job-id";
import { JOB_TYPES } from "../app/jobs";
import type { Env } from "../src/env";
import { createApp } from "../src/http/app";
import { JobRegistry } from "../src/jobs/registry";
import { ALICE, BOB, TEST_SECRETS } from "./secrets";
import type { CreatedJob, JobSnapshot, JobTypeInfo } from "../src/protocol";
import { auth, BASE, cancelJob, createJob, expectError, postJson, stubOf, useVirtualClock } from "./helpers";

useVirtualClock();

describe("POST /jobs", () => {
  it("creates a job: 201, id, state, urls and Location", async () => {
    const response = await postJson("/jobs", { type: "demo", input: {} });
    expect(response.status).toBe(201);
    const body = await response.json<CreatedJob>();
    expect(body.id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(body.state).toBe("queued");
    expect(response.headers.get("Location")).toBe(`${BASE}/jobs/${body.id}`);
    expect(body.urls).toMatchObject({ self: `${BASE}/jobs/${body.id}`, events: `${BASE}/jobs/${body.id}/events`, ws: `ws://jobs.test/jobs/${body.id}/ws` });
  });

  it("answers a browser form post with 303 to the job's page", async () => {
    const form = new URLSearchParams({ type: "primes", input: '{"n": 1000}' });
    const response = await SELF.fetch(`${BASE}/jobs`, { method: "POST", body: form, redirect: "manual" });
    expect(response.status).toBe(303);
    const page = response.headers.get("Location")!;
    expect(page).toMatch(/\/jobs\/[A-Za-z0-9_-]{32}$/);
    const snapshot = await (await SELF.fetch(page)).json<JobSnapshot>();
    expect(snapshot).toMatchObject({ type: "primes", input: { n: 1000, segment: 1_000_000 } });
  });

  it("refuses bad JSON (400)", async () => {
    const response = await SELF.fetch(`${BASE}/jobs`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{nope" });
    await expectError(response, 400, "invalid_json");
  });

  it("refuses an unknown type (400), pointing to /job-types rather than listing every type", async () => {
    const error = await expectError(await postJson("/jobs", { type: "nope" }, {}, null), 400, "unknown_type");
    expect(error.message).toContain("/job-types");
    expect(error.message).not.toContain("primes");
  });

  it("refuses input that breaks the type's schema (400), listing the issues without echoing the input", async () => {
    const error = await expectError(await postJson("/jobs", { type: "primes", input: { n: "many-<script>", segment: 5 } }), 400, "invalid_input");
    expect(error.issues).toEqual([
      { path: "n", message: expect.stringContaining("number") },
      { path: "segment", message: expect.stringContaining("1000") },
    ]);
    expect(JSON.stringify(error)).not.toContain("many-");
    const unknown = await expectError(await postJson("/jobs", { type: "demo", input: {}, extra: "secret-value" }), 400, "invalid_request");
    expect(unknown.issues).toEqual([{ path: "extra", message: "Unknown field" }]);
    expect(JSON.stringify(unknown)).not.toContain("secret-value");
    // valibot's checks without an expectation say "Received <input>": that goes too.
    const fraction = await expectError(await postJson("/jobs", { type: "demo", timeoutMs: 1234.5 }), 400, "invalid_request");
    expect(JSON.stringify(fraction)).not.toContain("1234.5");
    const huge = await expectError(await postJson("/jobs", { type: "demo", timeoutMs: 1e300 }), 400, "invalid_request");
    expect(JSON.stringify(huge).length).toBeLessThan(300);
    expect(issueMessage('Invalid URL: Received "javascript:alert(1)"')).toBe("Invalid URL");
    expect(issueMessage("Invalid type: Expected number but received \"many\"")).toBe("Invalid type: Expected number");
    // A missing field is required, not unknown.
    const missing = await expectError(await postJson("/jobs", { type: "primes", input: {} }), 400, "invalid_input");
    expect(missing.issues).toEqual([{ path: "n", message: "Required" }]);
    // valibot takes a list for an object: an all-optional schema passed [] and a loose one read [1] as {"0": 1}.
    for (const input of [[], [{ steps: 2 }]]) {
      const list = await expectError(await postJson("/jobs", { type: "demo", input }), 400, "invalid_input");
      expect(list.issues).toEqual([{ path: "", message: "Expected an object" }]);
    }
    // So too deeper in: ticker's phases are objects, and `[]` was a phase of 100 ticks (every field's default).
    const phase = await expectError(await postJson("/jobs", { type: "ticker", input: { count: 1, intervalMs: 0, then: [{ count: 1 }, []] } }), 400, "invalid_input");
    expect(phase.issues).toEqual([{ path: "then.1", message: "Expected an object" }]);
    const noType = await expectError(await postJson("/jobs", {}), 400, "invalid_request");
    expect(noType.issues).toEqual([{ path: "type", message: "Required" }]);
  });

  it("refuses a body that is not a job request (400)", async () => {
    for (const body of [[], "demo", null, { type: "demo", inputs: {} }, { type: "demo", timeoutMs: -5 }, { type: 7 }]) {
      await expectError(await postJson("/jobs", body), 400, "invalid_request");
    }
  });

  it("refuses a timeout above the run-time budget (400)", async () => {
    await expectError(await postJson("/jobs", { type: "demo", timeoutMs: 30 * 86_400_000 }), 400, "limit_exceeded");
  });

  it("refuses a form whose input is not JSON (400)", async () => {
    const form = new URLSearchParams({ type: "demo", input: "{" });
    await expectError(await SELF.fetch(`${BASE}/jobs`, { method: "POST", body: form }), 400, "invalid_json");
  });

  it("reads a form's timeoutMs as decimal digits only: 0x10, 1e3, -5 and 1.5 are refused (400), not read as 16 ms or 1 s", async () => {
    for (const timeoutMs of ["0x10", "1e3", "-5", "1.5", "Infinity"]) {
      const form = new URLSearchParams({ type: "demo", timeoutMs });
      const error = await expectError(await SELF.fetch(`${BASE}/jobs`, { method: "POST", body: form, headers: { Accept: "application/json" } }), 400, "invalid_request");
      expect((error.issues as { path: string }[])[0]!.path, timeoutMs).toBe("timeoutMs");
    }
    const form = new URLSearchParams({ type: "demo", timeoutMs: "60000" });
    expect((await SELF.fetch(`${BASE}/jobs`, { method: "POST", body: form, redirect: "manual" })).status).toBe(303);
  });

  it("refuses a body that is too large (413)", async () => {
    const response = await postJson("/jobs", { type: "demo", input: { padding: "x".repeat(70_000) } });
    await expectError(response, 413, "body_too_large");
  });

  it("refuses other content types (415)", async () => {
    for (const headers of [{ "Content-Type": "text/plain" }, {}] as Record<string, string>[]) {
      const response = await SELF.fetch(`${BASE}/jobs`, { method: "POST", headers, body: '{"type":"demo"}' });
      await expectError(response, 415, "unsupported_media_type");
    }
  });

  it("refuses a compressed body (415), which it does not decode, rather than calling it bad JSON", async () => {
    const gzipped = await new Response(new Blob(['{"type":"demo"}']).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
    const response = await SELF.fetch(`${BASE}/jobs`, { method: "POST", headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" }, body: gzipped });
    const error = await expectError(response, 415, "unsupported_media_type");
    expect(error.message).toContain("Content-Encoding");
    // Identity is no encoding at all.
    expect((await postJson("/jobs", { type: "demo" }, { "Content-Encoding": "identity" })).status).toBe(201);
  });
});

describe("job ids", () => {
  it("answers 404 for malformed and forged ids without addressing any object", async () => {
    const before = (await listDurableObjectIds(env.JOBS)).length;
    const genuine = await createJob("demo");
    const forged = genuine.slice(0, 31) + (genuine.endsWith("A") ? "B" : "A");
    for (const id of ["nope", "x".repeat(32), forged, `${genuine}x`, "%00", "..%2F..%2Fhealth"]) {
      for (const path of ["", "/events", "/cancel"]) {
        const response = await SELF.fetch(`${BASE}/jobs/${id}${path}`, { method: path === "/cancel" ? "POST" : "GET" });
        await expectError(response, 404, "not_found");
      }
    }
    expect((await listDurableObjectIds(env.JOBS)).length).toBe(before + 1);
  });

  it("answers 410 for a genuine id with no job, writing nothing", async () => {
    const id = await mintJobId(TEST_SECRETS.JOB_ID_SECRET);
    await expectError(await SELF.fetch(`${BASE}/jobs/${id}`), 410, "gone");
    await expectError(await SELF.fetch(`${BASE}/jobs/${id}/events`), 410, "gone");
    await expectError(await cancelJob(id), 410, "gone");
    const tables = await runInDurableObject(stubOf(id), (_, state) => state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master").one().n);
    expect(tables).toBe(0);
  });
});

describe("reads", () => {
  it("GET /jobs/:id/events refuses bad since and limit (400)", async () => {
    const id = await createJob("demo");
    for (const query of ["since=-1", "since=abc", "limit=0", "limit=1001", "since=1e3", "limit=2.5"]) {
      await expectError(await SELF.fetch(`${BASE}/jobs/${id}/events?${query}`), 400, "invalid_query");
    }
  });

  it("refuses a query parameter given twice (400), on every route that reads one, rather than reading the first", async () => {
    const id = await createJob("demo");
    for (const path of [`/jobs/${id}/events?since=1&since=2`, `/jobs/${id}/sse?since=0&since=0`, `/jobs/${id}/stream?since=1&since=`, `/jobs?limit=1&limit=x`, `/live/sse?sources=${id}&sources=${id}`, "/feed/sse?since=0&since=1"]) {
      const error = await expectError(await SELF.fetch(BASE + path, { headers: auth() }), 400, "invalid_query");
      expect(error.message, path).toMatch(/^Give each query parameter once \((since|limit|sources)\)$/);
    }
    // A name that is not a plain word is not repeated back.
    const error = await expectError(await SELF.fetch(`${BASE}/jobs/${id}/events?%3Cb%3E=1&%3Cb%3E=2`), 400, "invalid_query");
    expect(error.message).toBe("Give each query parameter once");
  });

  it("reads the switches ?follow and ?reload totally: on/off forms are taken, others refused (400) before a job is made", async () => {
    const before = (await listDurableObjectIds(env.JOBS)).length;
    for (const query of ["follow=maybe", "follow=%3Cb%3E", "follow=2"]) {
      const error = await expectError(await postJson(`/jobs?${query}`, { type: "demo", input: { intervalMs: 0 } }), 400, "invalid_query");
      expect(error.message).toMatch(/^follow must be on or off/);
      // Also when Accept asks for SSE, which decides the follow: the switch is still read.
      await expectError(await postJson(`/jobs?${query}`, { type: "demo", input: { intervalMs: 0 } }, { Accept: "text/event-stream" }), 400, "invalid_query");
      expect(error.message).not.toContain("<b>");
    }
    expect((await listDurableObjectIds(env.JOBS)).length).toBe(before);
    // Off is off: the create answers JSON rather than following.
    const off = await postJson("/jobs?follow=false", { type: "demo", input: { intervalMs: 0 } });
    expect(off.status).toBe(201);
    expect(off.headers.get("Content-Type")).toMatch(/^application\/json/);
    const { id } = await off.json<CreatedJob>();
    const page = (reload: string) => SELF.fetch(`${BASE}/jobs/${id}?reload=${reload}`, { headers: { Accept: "text/html" } });
    for (const reload of ["off", "no", "0"]) expect(await (await page(reload)).text(), reload).not.toContain('http-equiv="refresh"');
    for (const reload of ["on", "", "1"]) expect(await (await page(reload)).text(), reload).toContain('http-equiv="refresh"');
    expect((await page("sometimes")).status).toBe(400);
  });

  it("GET /job-types lists every type with its input schema and an example", async () => {
    const { types } = await (await SELF.fetch(`${BASE}/job-types`)).json<{ types: JobTypeInfo[] }>();
    expect(types.map((t) => t.type)).toEqual(expect.arrayContaining(["demo", "primes", "flaky", "sleepy"]));
    const primes = types.find((t) => t.type === "primes")!;
    expect(primes.inputSchema).toMatchObject({ type: "object", properties: { n: { type: "integer" } }, required: ["n"] });
    expect(primes.example).toEqual({ n: 20_000_000, segment: 1_000_000 });
  });

  it("GET /health answers ok", async () => {
    const response = await SELF.fetch(`${BASE}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it("answers unknown routes with a JSON 404, and a method a route does not take with a 405", async () => {
    await expectError(await SELF.fetch(`${BASE}/nope`), 404, "not_found");
    await expectError(await SELF.fetch(`${BASE}/jobs`, { method: "PUT" }), 405, "method_not_allowed");
  });
});

describe("webhooks", () => {
  it("refuses a webhook where the deployment sends none (400), and a malformed URL", async () => {
    await expectError(await postJson("/jobs", { type: "demo", webhook: { url: "https://hooks.example/x" } }), 400, "webhooks_off");
    await expectError(await postJson("/jobs", { type: "demo", webhook: { url: "not a url" } }), 400, "invalid_request");
    await expectError(await postJson("/jobs", { type: "demo", webhook: { url: "https://hooks.example/x", secret: "mine" } }), 400, "invalid_request");
  });

  it("takes webhooks from owners only, to listed origins, and shows the URL to the owner alone", async () => {
    const app = createApp({ types: new JobRegistry(JOB_TYPES) });
    const deployment = { ...env, ...TEST_SECRETS, WEBHOOK_SECRET: `whsec_${btoa("k".repeat(32))}`, WEBHOOK_ORIGINS: "https://hooks.example" } as Env;
    const post = (body: unknown, token: string | null) => app.request(`${BASE}/jobs`, {
      method: "POST", headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body),
    }, deployment);
    const url = "https://hooks.example/jobs?key=receiver-secret";
    // A stranger may create a public "demo" job, but not make the deployment call anyone.
    expect((await post({ type: "demo" }, null)).status).toBe(201);
    await expectError(await post({ type: "demo", webhook: { url } }, null), 401, "unauthorized");
    await expectError(await post({ type: "demo", webhook: { url: "https://elsewhere.example/x" } }, ALICE), 400, "webhook_not_allowed");
    const created = await post({ type: "demo", webhook: { url } }, ALICE);
    expect(created.status).toBe(201);
    const { id } = await created.json<CreatedJob>();
    const seenBy = async (token: string | null) => {
      const response = await app.request(`${BASE}/jobs/${id}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} }, deployment);
      return (await response.json<JobSnapshot>()).webhook;
    };
    expect(await seenBy(ALICE)).toEqual({ url, state: "pending", attempts: 0 });
    expect(await seenBy(BOB)).toEqual({ state: "pending", attempts: 0 });
    expect(await seenBy(null)).toEqual({ state: "pending", attempts: 0 });
  });
});

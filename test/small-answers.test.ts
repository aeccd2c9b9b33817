// Refusals are small: a refused body or a long path is never sent back, and every error
// message has a bounded length.
import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import { auth, BASE, createJob, postJson, snapshot, useVirtualClock } from "./helpers";
import { ALICE } from "./secrets";

useVirtualClock();

const MARK = "ECHO-MARK";

it("answers a 5 MB form post with a small 413 page that repeats nothing of it", async () => {
  const body = new URLSearchParams({ type: "demo", input: `{"x":"${MARK}${"y".repeat(5_000_000)}"}` });
  const response = await SELF.fetch(`${BASE}/jobs`, { method: "POST", body, headers: { Accept: "text/html" } });
  expect(response.status).toBe(413);
  const page = await response.text();
  expect(page).toContain("at most 65536 bytes");
  expect(page).not.toContain(MARK);
  expect(page.length).toBeLessThan(20_000);
});

it("refuses a 5 MB body on every route with a 413 before reading it, sent whole or in chunks", async () => {
  const big = () => new URLSearchParams({ credential: ALICE, csrf: MARK, back: "dashboard", padding: "y".repeat(5_000_000) });
  // Sent in chunks, without a Content-Length: the limit counts what it reads.
  const chunked = () => new Blob([big().toString()]).stream().pipeThrough(new TransformStream());
  const id = await createJob("sleepy", { duration: "1 minute" });
  const form = { "Content-Type": "application/x-www-form-urlencoded" };
  for (const [path, headers] of [["/session", {}], ["/session/end", {}], [`/jobs/${id}/cancel`, auth()], [`/jobs/${id}/rerun`, auth()]] as const) {
    for (const body of [big(), chunked()]) {
      const response = await SELF.fetch(`${BASE}${path}`, { method: "POST", body, headers: { ...form, ...headers }, redirect: "manual" });
      expect(response.status, path).toBe(413);
      const text = await response.text();
      expect(text).toContain("body_too_large");
      expect(text).not.toContain(MARK);
    }
  }
  // Refused before anything was done.
  expect((await snapshot(id)).state).not.toBe("canceled");
});

it("answers a 60 KB path with a small 404 that does not repeat it, in JSON and as a page", async () => {
  const path = `/${MARK}${"p".repeat(60_000)}`;
  const json = await SELF.fetch(`${BASE}${path}`);
  expect(json.status).toBe(404);
  const text = await json.text();
  expect(text).not.toContain(MARK);
  expect(text.length).toBeLessThan(200);
  const page = await (await SELF.fetch(`${BASE}${path}`, { headers: { Accept: "text/html" } })).text();
  expect(page).not.toContain(MARK);
  const job = await SELF.fetch(`${BASE}/jobs/${MARK}${"j".repeat(60_000)}`);
  expect(job.status).toBe(404);
  expect(await job.text()).not.toContain(MARK);
});

it("never repeats bad JSON, and bounds messages about bad input", async () => {
  const badJson = await SELF.fetch(`${BASE}/jobs`, { method: "POST", headers: { "Content-Type": "application/json" }, body: `{"type": "${MARK}${"z".repeat(50_000)}` });
  expect(badJson.status).toBe(400);
  expect(await badJson.text()).not.toContain(MARK);
  const badInput = await postJson("/jobs", { type: "primes", input: { n: `${MARK}${"n".repeat(50_000)}` } });
  expect(badInput.status).toBe(400);
  expect((await badInput.text()).length).toBeLessThan(1_000);
  const badType = await postJson("/jobs", { type: `${MARK}${"t".repeat(50_000)}` });
  expect(badType.status).toBe(400);
  const answer = await badType.text();
  expect(answer).not.toContain(MARK);
  expect(answer.length).toBeLessThan(1_000);
});

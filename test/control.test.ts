// A job's link watches; control (cancel, delete) needs the owner or the job's control token.
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { JOB_TYPES } from "../app/jobs";
import type { Env } from "../src/env";
import { createApp } from "../src/http/app";
import { JobRegistry } from "../src/jobs/registry";
import { openGate, runCount } from "./fixtures/jobs";
import type { CreatedJob, JobSnapshot } from "../src/protocol";
import { alarmAt, auth, BASE, cancelJob, createJob, postJson, runNextAlarm, snapshot, stubOf, UPGRADE, useVirtualClock } from "./helpers";
import { openSocket } from "./live-helpers";
import { BOB, TEST_SECRETS } from "./secrets";

useVirtualClock();

const erase = (id: string, headers: Record<string, string> = auth()) => SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers });

async function anonymousJob(): Promise<CreatedJob> {
  const response = await postJson("/jobs", { type: "sleepy", input: { duration: "1 minute" } }, { "CF-Connecting-IP": "203.0.113.9" }, null);
  expect(response.status).toBe(201);
  return response.json<CreatedJob>();
}

it("lets anyone with the link watch, but not cancel or delete (401)", async () => {
  const id = await createJob("sleepy", { duration: "1 minute" });
  expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(200);
  expect((await SELF.fetch(`${BASE}/jobs/${id}/events`)).status).toBe(200);
  const stream = await SELF.fetch(`${BASE}/jobs/${id}/sse`);
  expect(stream.status).toBe(200);
  await stream.body!.cancel();
  for (const refused of [await cancelJob(id, {}), await erase(id, {})]) {
    expect(refused.status).toBe(401);
    expect(refused.headers.get("WWW-Authenticate")).toContain("Bearer");
    expect(await refused.json()).toMatchObject({ error: { code: "unauthorized" } });
  }
  expect((await snapshot(id)).state).toBe("queued");
});

it("refuses another owner (403), and lets the owner cancel", async () => {
  const id = await createJob("sleepy", { duration: "1 minute" });
  for (const refused of [await cancelJob(id, auth(BOB)), await erase(id, auth(BOB))]) {
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: "forbidden" } });
  }
  expect((await cancelJob(id)).status).toBe(200);
  expect((await snapshot(id)).state).toBe("canceled");
});

it("hands out a control token once; it controls its own job only", async () => {
  const job = await anonymousJob();
  const other = await anonymousJob();
  expect(job.controlToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect((await cancelJob(other.id, { "Control-Token": job.controlToken! })).status).toBe(403);
  expect((await cancelJob(job.id, { "Control-Token": "x".repeat(43) })).status).toBe(403);
  expect((await cancelJob(job.id, { "Control-Token": `${job.controlToken!}${"x".repeat(200)}` })).status).toBe(403);
  const canceled = await cancelJob(job.id, { "Control-Token": job.controlToken! });
  expect(canceled.status).toBe(200);
  expect((await canceled.json<JobSnapshot>()).state).toBe("canceled");
  expect((await snapshot(other.id)).state).toBe("queued");
});

it("DELETE erases the job: run stopped, subscribers closed, alarm and storage gone, then 410", async () => {
  const job = await anonymousJob();
  await runNextAlarm(job.id);
  expect((await snapshot(job.id)).state).toBe("waiting");
  const watcher = await openSocket(job.id);
  const response = await erase(job.id, { "Control-Token": job.controlToken! });
  expect(response.status).toBe(204);
  expect((await watcher.closed).code).toBe(1000);
  expect(await alarmAt(job.id)).toBeNull();
  const tables = await runInDurableObject(stubOf(job.id), (_, state) => state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master").one().n);
  expect(tables).toBe(0);
  for (const path of ["", "/events", "/stream", "/sse"]) {
    const gone = await SELF.fetch(`${BASE}/jobs/${job.id}${path}`);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ error: { code: "gone" } });
  }
  expect((await erase(job.id, { "Control-Token": job.controlToken! })).status).toBe(410);
  // Browsers get the same answer as a page.
  const page = await SELF.fetch(`${BASE}/jobs/${job.id}`, { headers: { Accept: "text/html" } });
  expect(page.status).toBe(410);
  expect(await page.text()).toContain("<h1>Gone</h1>");
});

it("keeps a browser's control cookie for at most 400 days, however long the job is kept (a RETENTION past it was a 500 after the job was made)", async () => {
  // Browsers cap a cookie's life at 400 days, and Hono refuses to write a longer Max-Age.
  const app = createApp({ types: new JobRegistry(JOB_TYPES) });
  const form = new URLSearchParams({ type: "sleepy", input: '{"duration": "1 minute"}' });
  const created = await app.request(`${BASE}/jobs`, { method: "POST", body: form, headers: { "CF-Connecting-IP": "203.0.113.11" } }, { ...env, ...TEST_SECRETS, RETENTION: "730 days" } as Env);
  expect(created.status).toBe(303);
  expect(created.headers.get("Set-Cookie")).toMatch(/^control=[A-Za-z0-9_-]{43}; Max-Age=34560000; /);
});

it("shows Cancel on the job page only to whoever controls the job", async () => {
  const form = new URLSearchParams({ type: "sleepy", input: '{"duration": "1 minute"}' });
  const created = await SELF.fetch(`${BASE}/jobs`, { method: "POST", body: form, redirect: "manual", headers: { "CF-Connecting-IP": "203.0.113.10" } });
  expect(created.status).toBe(303);
  const page = created.headers.get("Location")!;
  const id = page.split("/").pop()!;
  const cookie = created.headers.get("Set-Cookie")!;
  expect(cookie).toMatch(new RegExp(`^control=[A-Za-z0-9_-]{43}; Max-Age=\\d+; Path=/jobs/${id}; HttpOnly; SameSite=Strict$`));
  const html = async (headers: Record<string, string>) => (await SELF.fetch(page, { headers: { Accept: "text/html", ...headers } })).text();
  expect(await html({ Cookie: cookie.split(";")[0]! })).toContain('id="cancel-form"');
  expect(await html({})).not.toContain('id="cancel-form"');
  // The owner of an owned job sees it too.
  const owned = await createJob("sleepy", { duration: "1 minute" });
  expect(await (await SELF.fetch(`${BASE}/jobs/${owned}`, { headers: { Accept: "text/html", ...auth() } })).text()).toContain('id="cancel-form"');
  // The browser's cookie cancels the job (the no-JavaScript form).
  const canceled = await SELF.fetch(`${page}/cancel`, { method: "POST", redirect: "manual", headers: { Cookie: cookie.split(";")[0]!, "Content-Type": "application/x-www-form-urlencoded" }, body: "" });
  expect(canceled.status).toBe(303);
  expect((await snapshot(id)).state).toBe("canceled");
});

it("erases a job mid-step while it is canceled and watched at the same moment: 204, every other answer truthful, nothing left running", async () => {
  const id = await createJob("test-gate");
  const slice = runDurableObjectAlarm(stubOf(id));
  await vi.waitFor(() => expect(runCount(id, "wait")).toBe(1));
  const joining = SELF.fetch(`${BASE}/jobs/${id}/ws`, { headers: UPGRADE });
  const [erased, canceled] = await Promise.all([erase(id), cancelJob(id)]);
  expect(erased.status).toBe(204);
  // Before the erase, or after it: canceled, or gone.
  expect([200, 410]).toContain(canceled.status);
  const joined = await joining;
  if (joined.status === 101) {
    joined.webSocket!.accept();
    const closed = new Promise<CloseEvent>((resolve) => joined.webSocket!.addEventListener("close", resolve));
    expect((await closed).code).toBe(1000);
  } else expect(joined.status).toBe(410);
  openGate(id);
  await slice;
  expect(runCount(id, "after")).toBe(0);
  expect(await alarmAt(id)).toBeNull();
  expect((await SELF.fetch(`${BASE}/jobs/${id}`)).status).toBe(410);
});

// Server-Sent Events: headers, wire format, Last-Event-ID resume, the end of the stream.
import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import { mintJobId } from "../src/http/job-id";
import { probes } from "./fixtures/jobs";
import { TEST_SECRETS } from "./secrets";
import type { JobEvent } from "../src/protocol";
import { allEvents, BASE, createJob, expectError, postJson, runToEnd, useVirtualClock } from "./helpers";
import { parseSse, readSse, sseEvents, sseSnapshot } from "./live-helpers";

useVirtualClock();

it("streams a live job: snapshot, every event in order, then the end", async () => {
  const id = await createJob("demo");
  const response = await SELF.fetch(`${BASE}/jobs/${id}/sse`);
  expect(response.status).toBe(200);
  expect(Object.fromEntries(response.headers)).toMatchObject({
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store, no-transform",
    "x-accel-buffering": "no",
    "content-encoding": "identity",
  });
  const body = response.text();
  await runToEnd(id);
  const messages = parseSse(await body);
  expect(messages[0]).toMatchObject({ retry: "2000", event: "snapshot" });
  const all = await allEvents(id);
  expect(sseEvents(messages)).toEqual(all);
  for (const message of messages.slice(1)) {
    const event = JSON.parse(message.data!) as JobEvent;
    expect(message.id).toBe(String(event.seq));
    expect(message.event).toBe(event.type === "error" ? "job-error" : event.type);
  }
});

it("is also served at /events for Accept: text/event-stream", async () => {
  const id = await createJob("demo", { intervalMs: 0 });
  await runToEnd(id);
  const { response, messages } = await readSse(id, {}, "events");
  expect(response.headers.get("Content-Type")).toContain("text/event-stream");
  expect(sseEvents(messages)).toEqual(await allEvents(id));
});

it("resumes from every Last-Event-ID and ?since with exactly the tail", async () => {
  const id = await createJob("flaky", { fatal: true });
  await runToEnd(id);
  const all = await allEvents(id);
  for (let since = 0; since < all.length; since++) {
    const byHeader = await readSse(id, { "Last-Event-ID": String(since) });
    expect(sseEvents(byHeader.messages)).toEqual(all.slice(since));
    expect(sseSnapshot(byHeader.messages).state).toBe("failed");
    const byQuery = await SELF.fetch(`${BASE}/jobs/${id}/sse?since=${since}`);
    expect(sseEvents(parseSse(await byQuery.text()))).toEqual(all.slice(since));
  }
  expect(all.at(-1)?.type).toBe("error");
});

it("answers 204 to an EventSource reconnecting after it saw the end, so it stops retrying", async () => {
  const id = await createJob("demo", { intervalMs: 0 });
  const done = await runToEnd(id);
  const { response } = await readSse(id, { "Last-Event-ID": String(done.lastSeq) });
  expect(response.status).toBe(204);
});

it("follows a job from its create request", async () => {
  const response = await postJson("/jobs", { type: "demo", input: { intervalMs: 0 } }, { Accept: "text/event-stream" });
  expect(response.status).toBe(201);
  const id = response.headers.get("Location")!.split("/").pop()!;
  const body = response.text();
  await runToEnd(id);
  expect(sseEvents(parseSse(await body))).toEqual(await allEvents(id));
});

it("answers a job object's 410 to a subscribe as a gone job on /sse, /stream and the WebSocket, as /live/sse does", async () => {
  const id = await createJob("sleepy", { duration: "1 hour" });
  probes.status = 410;
  try {
    for (const route of ["sse", "stream"]) await expectError(await SELF.fetch(`${BASE}/jobs/${id}/${route}`), 410, "gone");
    await expectError(await SELF.fetch(`${BASE}/jobs/${id}/ws`, { headers: { Upgrade: "websocket" } }), 410, "gone");
  } finally {
    probes.status = null;
  }
});

it("answers 410 before any stream for a genuine id with no job, 400 for a bad Last-Event-ID", async () => {
  const unknown = await mintJobId(TEST_SECRETS.JOB_ID_SECRET);
  const response = await SELF.fetch(`${BASE}/jobs/${unknown}/sse`);
  expect(response.status).toBe(410);
  expect(response.headers.get("Content-Type")).toContain("application/json");
  const id = await createJob("demo");
  expect((await SELF.fetch(`${BASE}/jobs/${id}/sse`, { headers: { "Last-Event-ID": "abc" } })).status).toBe(400);
  // ?since is read as strictly here as on /events: no spaces, signs or exponents.
  for (const since of ["%201", "1%20", "+1", "1e3", "-1"]) {
    for (const route of ["sse", "stream", "events"]) await expectError(await SELF.fetch(`${BASE}/jobs/${id}/${route}?since=${since}`), 400, "invalid_query");
  }
});

// The plain-text stream for curl -N: a line per event, ending with the outcome.
import { evictDurableObject, SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import { mintJobId } from "../src/http/job-id";
import { TEST_SECRETS } from "./secrets";
import { allEvents, BASE, cancelJob, createJob, postJson, runNextAlarm, runToEnd, snapshot, stubOf, useVirtualClock } from "./helpers";
import { readText } from "./live-helpers";

useVirtualClock();

const LINE = /^\d{2}:\d{2}:\d{2}\.\d{3} ( {3}-|[ \d]{3}%) {2}\S+ {2}.+$/;

it("prints one line per event with time, percent, step and message, then the outcome", async () => {
  const id = await createJob("demo");
  const lines = readText(id);
  await runToEnd(id);
  const text = await lines;
  expect(text).toHaveLength(1 + (await allEvents(id)).length);
  for (const line of text) expect(line).toMatch(LINE);
  expect(text[0]).toContain(`job ${id} (demo) is queued`);
  expect(text.filter((l) => l.includes("info: "))).toEqual([
    expect.stringMatching(/    -  message-1  info: Did something$/),
    expect.stringMatching(/ 33%  message-2  info: Did something else$/),
    expect.stringMatching(/ 66%  message-3  info: All done$/),
  ]);
  expect(text.at(-1)).toMatch(/100%  message-3  succeeded: \{"messages":3\}$/);
});

it("states a failure and its error on the last line", async () => {
  const id = await createJob("flaky", { fatal: true });
  await runToEnd(id);
  const text = await readText(id);
  expect(text.at(-1)).toMatch(/call-service  failed \(step_failed\): Step "call-service" failed: The service refused the request for good$/);
});

it("resumes after ?since", async () => {
  const id = await createJob("demo", { intervalMs: 0 });
  await runToEnd(id);
  const all = await allEvents(id);
  expect(await readText(id, `?since=${all.length - 1}`)).toHaveLength(2); // snapshot line, then the result
});

it("resumes after ?since with the percent and step a replay from the start shows there (it showed '-' until the next progress or step)", async () => {
  const id = await createJob("demo", { intervalMs: 0 });
  await runToEnd(id);
  const whole = (await readText(id)).slice(1);
  for (const since of [10, 19, whole.length - 1]) expect((await readText(id, `?since=${since}`)).slice(1)).toEqual(whole.slice(since));
});

it("follows a job from its create request with ?follow", async () => {
  const response = await postJson("/jobs?follow", { type: "demo", input: { intervalMs: 0 } });
  expect(response.status).toBe(201);
  expect(response.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
  const id = response.headers.get("Location")!.split("/").pop()!;
  const body = response.text();
  await runToEnd(id);
  expect((await body).trimEnd().split("\n").at(-1)).toContain('succeeded: {"messages":3}');
});

it("answers 410 for a genuine id with no job", async () => {
  const response = await SELF.fetch(`${BASE}/jobs/${await mintJobId(TEST_SECRETS.JOB_ID_SECRET)}/stream`);
  expect(response.status).toBe(410);
});

it("escapes control characters in job output, so a terminal never acts on them", async () => {
  const id = await createJob("echo", { lines: ["\u001b[2J\u001b[H\u001b]0;PWNED\u0007", "two\n12:00:00.000 100%  x  succeeded: {}"], delayMs: 0 });
  await runToEnd(id);
  const lines = await readText(id);
  expect(lines.filter((line) => line.includes(" info: ")).map((line) => line.slice(line.indexOf(" info: ")))).toEqual([
    " info: \\x1b[2J\\x1b[H\\x1b]0;PWNED\\x07",
    " info: two\\n12:00:00.000 100%  x  succeeded: {}",
  ]);
  expect(lines.join("\n")).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
});

it("keeps a live viewer through the object's eviction: the woken object answers, and the viewer sees the end", async () => {
  const id = await createJob("sleepy", { duration: "1 minute" });
  await runNextAlarm(id);
  const response = await SELF.fetch(`${BASE}/jobs/${id}/stream`);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("step sleeping")) text += (await reader.read()).value ?? "";
  await evictDurableObject(stubOf(id));
  // The woken object rebuilds its viewers' cursors, the text viewer's columns included.
  expect((await snapshot(id)).viewers).toBe(1);
  expect((await cancelJob(id)).status).toBe(200);
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
  expect(text.trimEnd().split("\n").at(-1)).toMatch(/ {2}nap {2}canceled: The job was canceled$/);
});

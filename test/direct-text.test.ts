// The plain-text view of a busy job is served by its object, like SSE, but `curl -N` does
// not reconnect: when the object hands the stream off before a long wait, the Worker goes
// on in the same response, bridged, from the last line the viewer read.
import { evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { allEvents, auth, BASE, createJob, postJson, runNextAlarm, runToEnd, snapshot, stubOf, useVirtualClock } from "./helpers";
import { readText } from "./live-helpers";

useVirtualClock();

/** The WebSockets the job's object holds: bridged viewers have one each, direct ones none. */
const sockets = (id: string) => runInDurableObject(stubOf(id), (_, state) => state.getWebSockets().length);

const waiting = { lines: 20, perStep: 10, pauseMs: 60_000 };

it("serves a busy job's text from the object and goes on across a long wait in the same response, every line once", async () => {
  const id = await createJob("test-logger", waiting);
  const response = await SELF.fetch(`${BASE}/jobs/${id}/stream`);
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
  expect(await sockets(id)).toBe(0);
  const text = response.text();
  await runNextAlarm(id); // ten lines, then the sleep: the object hands the stream off
  await vi.waitFor(async () => expect(await sockets(id)).toBe(1)); // the Worker's continuation
  // The object sleeps through the wait; woken, it sends on with the columns as of before it.
  await evictDurableObject(stubOf(id));
  await runNextAlarm(id); // woken by its alarm alone, as deployed
  await runToEnd(id);
  const lines = (await text).trimEnd().split("\n");
  expect(lines).toHaveLength(1 + (await allEvents(id)).length);
  expect(lines[0]).toContain(`job ${id} (test-logger) is queued`);
  // Line for line what a replay of the ended job shows, columns included.
  expect(lines.slice(1)).toEqual((await readText(id)).slice(1));
});

it("follows a job from its create request (?follow) across a long wait to its end", async () => {
  const response = await postJson("/jobs?follow", { type: "test-logger", input: waiting });
  expect(response.status).toBe(201);
  const id = response.headers.get("Location")!.split("/").pop()!;
  expect(await sockets(id)).toBe(0);
  const text = response.text();
  await runNextAlarm(id);
  await vi.waitFor(async () => expect(await sockets(id)).toBe(1));
  await runToEnd(id);
  const lines = (await text).trimEnd().split("\n");
  expect(lines.slice(1)).toEqual((await readText(id)).slice(1));
  expect(lines.at(-1)).toContain('succeeded: {"lines":20}');
});

it("lets a viewer that hangs up go, while the object serves it", async () => {
  const id = await createJob("test-logger", waiting);
  const reader = (await SELF.fetch(`${BASE}/jobs/${id}/stream`)).body!.getReader();
  await reader.read();
  expect((await snapshot(id)).viewers).toBe(1);
  await reader.cancel();
  await vi.waitFor(async () => expect((await snapshot(id)).viewers).toBe(0));
});

it("ends a text view of a job deleted while it was followed with a line saying so, served by the object or bridged (the stream just stopped)", async () => {
  const remove = async (id: string) => expect((await SELF.fetch(`${BASE}/jobs/${id}`, { method: "DELETE", headers: auth() })).status).toBe(204);
  // Busy: served by the object, continued by the Worker, which finds the job gone.
  const busy = await createJob("test-logger", waiting);
  const direct = await SELF.fetch(`${BASE}/jobs/${busy}/stream`);
  expect(await sockets(busy)).toBe(0);
  const directText = direct.text();
  await remove(busy);
  expect((await directText).trimEnd().split("\n").at(-1)).toMatch(/ …  job deleted or expired; nothing more to follow$/);
  // Waiting long: bridged from the start.
  const asleep = await createJob("test-logger", waiting);
  await runNextAlarm(asleep); // ten lines, then the sleep
  const bridged = await SELF.fetch(`${BASE}/jobs/${asleep}/stream`);
  await vi.waitFor(async () => expect(await sockets(asleep)).toBe(1));
  const bridgedText = bridged.text();
  await remove(asleep);
  expect((await bridgedText).trimEnd().split("\n").at(-1)).toMatch(/ …  job deleted; nothing more to follow$/);
});

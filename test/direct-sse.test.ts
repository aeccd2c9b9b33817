// SSE viewers of a busy job are served by its object on the response's own stream (one
// hop, not the Worker's bridge). Before a long wait the object ends those streams, so it
// may hibernate: the viewer reconnects with its Last-Event-ID, as an EventSource does, and
// goes on bridged with exactly the rest. A create request's follow, which cannot be
// repeated, is bridged from the start and goes on across the wait.
import { runInDurableObject, SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import { allEvents, BASE, createJob, postJson, runNextAlarm, runToEnd, stubOf, useVirtualClock } from "./helpers";
import { parseSse, sseEvents } from "./live-helpers";

useVirtualClock();

/** The WebSockets the job's object holds: bridged viewers have one each, direct ones none. */
const sockets = (id: string) => runInDurableObject(stubOf(id), (_, state) => state.getWebSockets().length);

/** Ten lines, a minute's sleep, ten more. */
const waitingJob = () => createJob("test-logger", { lines: 20, perStep: 10, pauseMs: 60_000 });

it("serves a busy job's SSE from the object, ends it before a long wait, and a reconnect gets exactly the rest, bridged", async () => {
  const id = await waitingJob();
  const direct = await SELF.fetch(`${BASE}/jobs/${id}/sse`);
  expect(direct.status).toBe(200);
  expect(direct.headers.get("Content-Type")).toBe("text/event-stream; charset=utf-8");
  expect(await sockets(id)).toBe(0);
  const first = direct.text();
  await runNextAlarm(id); // the first ten lines, then the sleep: the response ends
  const before = sseEvents(parseSse(await first));
  expect(before.filter((event) => event.type === "log")).toHaveLength(10);
  const reconnect = await SELF.fetch(`${BASE}/jobs/${id}/sse`, { headers: { "Last-Event-ID": String(before.at(-1)!.seq) } });
  expect(reconnect.status).toBe(200);
  expect(await sockets(id)).toBe(1);
  const rest = reconnect.text();
  await runToEnd(id);
  expect([...before, ...sseEvents(parseSse(await rest))]).toEqual(await allEvents(id));
});

it("follows a job from its create request across a long wait, bridged, to the end", async () => {
  const response = await postJson("/jobs", { type: "test-logger", input: { lines: 20, perStep: 10, pauseMs: 60_000 } }, { Accept: "text/event-stream" });
  expect(response.status).toBe(201);
  const id = response.headers.get("Location")!.split("/").pop()!;
  expect(await sockets(id)).toBe(1);
  const body = response.text();
  await runToEnd(id);
  expect(sseEvents(parseSse(await body))).toEqual(await allEvents(id));
});

it("serves an SSE viewer bridged while the job waits long, to the end", async () => {
  const id = await waitingJob();
  await runNextAlarm(id);
  const response = await SELF.fetch(`${BASE}/jobs/${id}/sse`);
  expect(await sockets(id)).toBe(1);
  const body = response.text();
  await runToEnd(id);
  expect(sseEvents(parseSse(await body))).toEqual(await allEvents(id));
});

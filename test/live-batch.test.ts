// `/jobs/:id/ws?batch`: the frames one call sends go as one message, a frame a line, so a
// client pays its per-message cost once per batch rather than once per event (a browser
// took 15 s for a 99,000-event history as single frames, 2 s batched).
import { evictDurableObject, SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { ACK_EVERY } from "../src/lib/fanout";
import { parseFrame } from "../src/live/bridge";
import { allEvents, BASE, createJob, runNextAlarm, runToEnd, stubOf, UPGRADE, useVirtualClock } from "./helpers";
import { openSocket, parseSse, sseEvents } from "./live-helpers";

useVirtualClock();

it("sends a history in a message a mark, a frame a line, and the live tail in batches, across hibernation; without ?batch a frame a message", async () => {
  // 10,000 log lines in the first slice, then a sleep, then 100 more in one step.
  const id = await createJob("test-logger", { lines: 10_100, perStep: 10_000, pauseMs: 1_000 });
  await runNextAlarm(id);
  const batched = await openSocket(id, "?batch");
  const single = await openSocket(id, "", "203.0.113.9");
  await vi.waitFor(() => expect(Math.min(batched.events().length, single.events().length)).toBeGreaterThan(10_000), { timeout: 15_000 });

  expect(single.messages).toHaveLength(single.frames.length);
  const replayed = batched.frames.length;
  expect(batched.messages.length).toBeLessThan(replayed / 50);
  for (const message of batched.messages) {
    const lines = message.split("\n");
    // A mark ends its batch (the client answers it while the next comes), and a batch stays near ACK_EVERY.
    expect(lines.slice(0, -1).some((line) => line.startsWith('{"type":"mark"'))).toBe(false);
    expect(new TextEncoder().encode(message).byteLength).toBeLessThan(ACK_EVERY + 1_000);
  }

  // The object sleeps through the pause; its subscribers stay connected and keep their batches.
  await evictDurableObject(stubOf(id));
  const before = batched.messages.length;
  await runToEnd(id);
  expect((await batched.closed).code).toBe(1000);
  expect((await single.closed).code).toBe(1000);
  const tail = batched.frames.length - replayed;
  expect(tail).toBeGreaterThan(100);
  expect(batched.messages.length - before).toBeLessThan(tail / 5);

  const all = await allEvents(id);
  expect(batched.events()).toEqual(all);
  expect(single.events()).toEqual(all);
});

it("takes ?batch as a switch: anything else is a 400", async () => {
  const id = await createJob("test-logger", { lines: 1 });
  const response = await SELF.fetch(`${BASE}/jobs/${id}/ws?batch=sometimes`, { headers: UPGRADE });
  expect(response.status).toBe(400);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_query");
});

it("gives the Worker's SSE and text bridges a history in a message a mark (the last seq, then each frame's wire text), which viewers read as before", async () => {
  const id = await createJob("test-logger", { lines: 10_000, perStep: 10_000 });
  await runToEnd(id);
  const all = await allEvents(id);
  for (const format of ["sse", "text"] as const) {
    // What the Worker's bridge gets from the object: one message a batch, each mark its own.
    const response = await stubOf(id).fetch(`https://object/subscribe?since=0&format=${format}&client=test`, { headers: { Upgrade: "websocket" } });
    const socket = response.webSocket!;
    const messages: string[] = [];
    let seq = 0;
    socket.addEventListener("message", (message) => {
      messages.push(message.data as string);
      const frame = parseFrame(message.data)!;
      expect(frame.seq).toBeGreaterThanOrEqual(seq);
      seq = frame.seq;
      if (frame.token !== undefined) socket.send(JSON.stringify({ type: "ack", token: frame.token }));
    });
    const closed = new Promise((resolve) => socket.addEventListener("close", resolve));
    socket.accept();
    await closed;
    expect(seq).toBe(all.at(-1)!.seq);
    expect(messages.length, format).toBeLessThan(all.length / 50);
  }
  // Through the Worker (the job has ended: bridged), every event once, in order.
  expect(sseEvents(parseSse(await (await SELF.fetch(`${BASE}/jobs/${id}/sse`)).text()))).toEqual(all);
  const lines = (await (await SELF.fetch(`${BASE}/jobs/${id}/stream`)).text()).trimEnd().split("\n");
  expect(lines).toHaveLength(all.length + 1);
});

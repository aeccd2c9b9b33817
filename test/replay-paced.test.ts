// A long history streams to any reader at its own pace: every event exactly once, in
// order, then the live tail, on every transport; and a subscriber that stops reading
// makes the object send no more than its credit, however large the history.
import { evictDurableObject, SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { CREDIT } from "../src/lib/fanout";
import type { ServerFrame } from "../src/protocol";
import { allEvents, BASE, createJob, runNextAlarm, runToEnd, stubOf, UPGRADE, useVirtualClock } from "./helpers";
import { openSocket, parseSse, sseEvents } from "./live-helpers";

useVirtualClock();

/** 10,000 log lines in the first slice, then a sleep, then 100 more. */
async function longJob(): Promise<string> {
  const id = await createJob("test-logger", { lines: 10_100, perStep: 10_000, pauseMs: 1_000 });
  await runNextAlarm(id); // the first 10,000 lines, then the sleep
  return id;
}

it("replays 10,000 events over WebSocket as the subscriber acks, then the live tail", async () => {
  const id = await longJob();
  const client = await openSocket(id);
  await vi.waitFor(() => expect(client.events().length).toBeGreaterThan(10_000), { timeout: 15_000 });
  expect(client.frames.filter((f) => f.type === "mark").length).toBeGreaterThan(3); // it was paced, not flooded
  await runToEnd(id);
  expect((await client.closed).code).toBe(1000);
  expect(client.events()).toEqual(await allEvents(id));
});

it("replays 10,000 events over SSE and text from the start, then the live tail", async () => {
  const id = await longJob();
  const sse = SELF.fetch(`${BASE}/jobs/${id}/sse`).then((r) => r.text());
  const text = SELF.fetch(`${BASE}/jobs/${id}/stream`).then((r) => r.text());
  await new Promise((resolve) => setTimeout(resolve, 200));
  await runToEnd(id);
  const all = await allEvents(id);
  expect(all.length).toBeGreaterThan(10_100);
  expect(sseEvents(parseSse(await sse))).toEqual(all);
  const lines = (await text).trimEnd().split("\n");
  expect(lines).toHaveLength(all.length + 1); // the snapshot line, then one per event
  expect(lines.filter((line) => / info: \d+ /.test(line)).map((line) => Number(/ info: (\d+) /.exec(line)![1]))).toEqual(Array.from({ length: 10_100 }, (_, i) => i));
});

it("sends a subscriber that stops confirming no more than its credit, over a history of 11 MB, whatever it claims", async () => {
  const id = await createJob("test-logger", { lines: 1_400, size: 8_000, perStep: 100 });
  const done = await runToEnd(id);
  expect(done.state).toBe("succeeded");
  const response = await SELF.fetch(`${BASE}/jobs/${id}/ws`, { headers: UPGRADE });
  const socket = response.webSocket!;
  let received = 0;
  const frames: ServerFrame[] = [];
  socket.addEventListener("message", (message) => {
    received += (message.data as string).length;
    frames.push(JSON.parse(message.data as string) as ServerFrame);
  });
  socket.accept();
  const settled = async () => {
    let before = -1;
    while (before !== received) {
      before = received;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  await settled();
  // The credit, plus at most one event frame that crossed it, and its marks.
  expect(received).toBeLessThan(CREDIT + 20_000);
  // Acks that quote no mark it was sent (an attacker's, or a stale one), whatever their
  // shape, confirm nothing and are no reason to hang up.
  for (const token of ["AAAAAAAA", "forged00", "zzzzzzzz", "forged", ""]) socket.send(JSON.stringify({ type: "ack", token }));
  await settled();
  expect(received).toBeLessThan(CREDIT + 20_000);
  // Answering the marks it received brings the next stretch.
  for (const frame of frames) if (frame.type === "mark") socket.send(JSON.stringify({ type: "ack", token: frame.token }));
  await vi.waitFor(() => expect(received).toBeGreaterThan(CREDIT + 20_000));
  socket.close(1000, "bye");
});

it("counts a subscriber's credit in bytes as sent: frames of non-ASCII text (three bytes a character) stop at the same 256 KiB", async () => {
  const id = await createJob("test-logger", { lines: 200, size: 8_000, perStep: 100, fill: "€" });
  await runToEnd(id);
  const response = await SELF.fetch(`${BASE}/jobs/${id}/ws`, { headers: UPGRADE });
  const socket = response.webSocket!;
  const encoder = new TextEncoder();
  let bytes = 0;
  let frames = 0;
  socket.addEventListener("message", (message) => {
    bytes += encoder.encode(message.data as string).byteLength;
    frames++;
  });
  socket.accept();
  let before = -1;
  while (before !== frames) {
    before = frames;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The credit, plus at most one event frame (24 KB here) that crossed it, and its marks; not three times the credit.
  expect(bytes).toBeGreaterThan(CREDIT / 2);
  expect(bytes).toBeLessThan(CREDIT + 30_000);
  socket.close(1000, "bye");
});

it("goes on with a paused replay after the object hibernated, over WebSocket and SSE, to the end", async () => {
  const id = await createJob("test-logger", { lines: 200, size: 8_000, perStep: 50 });
  await runToEnd(id);
  const all = await allEvents(id);
  // A WebSocket reader that takes its credit's worth, then waits while the object sleeps.
  const socket = (await SELF.fetch(`${BASE}/jobs/${id}/ws`, { headers: UPGRADE })).webSocket!;
  const frames: ServerFrame[] = [];
  let answering = false;
  socket.addEventListener("message", (message) => {
    const frame = JSON.parse(message.data as string) as ServerFrame;
    frames.push(frame);
    if (answering && frame.type === "mark") socket.send(JSON.stringify({ type: "ack", token: frame.token }));
  });
  const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener("close", resolve));
  socket.accept();
  // An SSE reader that takes the first chunk, then stops reading while the object sleeps.
  const reader = (await SELF.fetch(`${BASE}/jobs/${id}/sse`)).body!.pipeThrough(new TextDecoderStream()).getReader();
  let sse = (await reader.read()).value ?? "";
  await vi.waitFor(() => expect(frames.some((f) => f.type === "mark")).toBe(true));
  await new Promise((resolve) => setTimeout(resolve, 300));
  await evictDurableObject(stubOf(id));
  answering = true;
  for (const frame of [...frames]) if (frame.type === "mark") socket.send(JSON.stringify({ type: "ack", token: frame.token }));
  expect((await closed).code).toBe(1000);
  expect(frames.flatMap((f) => (f.type === "event" ? [f.event] : []))).toEqual(all);
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) sse += chunk.value;
  expect(sseEvents(parseSse(sse))).toEqual(all);
});

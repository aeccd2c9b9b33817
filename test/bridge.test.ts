// The Worker's bridge from an object's WebSocket to an HTTP stream: bad frames are
// skipped, slow viewers are dropped, a viewer that leaves closes its WebSocket.
import { expect, it, vi } from "vitest";
import { HEARTBEAT_MS, MAX_BUFFERED_BYTES, parseFrame, streamBody, Subscription } from "../src/live/bridge";
import { streamFormat } from "../src/live/formats";
import type { JobEvent, JobSnapshot, ServerFrame } from "../src/protocol";

const snapshot = { id: "j", type: "demo", state: "running", progress: null, steps: [], lastSeq: 0 } as unknown as JobSnapshot;

function pair() {
  const { 0: object, 1: worker } = new WebSocketPair();
  object.accept();
  const closed = new Promise<CloseEvent>((resolve) => object.addEventListener("close", resolve));
  return { object, subscription: new Subscription(worker), closed };
}

const frame = (event: JobEvent) => JSON.stringify({ type: "event", event } satisfies ServerFrame);

it("skips frames that are not job frames", () => {
  for (const bad of ["", "nope", "null", "[]", '{"type":"other"}', new ArrayBuffer(2)]) expect(parseFrame(bad)).toBeNull();
  expect(parseFrame('{"type":"snapshot","snapshot":{}}')).toEqual({ type: "snapshot", snapshot: {} });
});

it("streams frames, skips garbage, and ends after the terminal event", async () => {
  const { object, subscription, closed } = pair();
  const body = streamBody(subscription, snapshot, streamFormat("sse", 0));
  object.send("garbage");
  object.send(frame({ seq: 1, at: 1, type: "log", data: { level: "info", message: "hi" } }));
  object.send(frame({ seq: 2, at: 2, type: "result", data: { result: 42 } }));
  const text = await new Response(body).text();
  expect(text).toContain("event: snapshot");
  expect(text).toContain('id: 1\nevent: log\n');
  expect(text.trimEnd().endsWith('"type":"result","data":{"result":42}}')).toBe(true);
  expect((await closed).code).toBe(1000);
});

it("drops a viewer that falls more than MAX_BUFFERED_BYTES behind", async () => {
  const { object, subscription, closed } = pair();
  const body = streamBody(subscription, snapshot, streamFormat("text", 0));
  const line = "x".repeat(64 * 1024);
  for (let seq = 1; seq <= (2 * MAX_BUFFERED_BYTES) / line.length; seq++) {
    object.send(frame({ seq, at: seq, type: "log", data: { level: "info", message: line } }));
  }
  expect((await closed).code).toBe(1013);
  await expect(new Response(body).text()).rejects.toThrow(/too far behind/);
});

it("closes the WebSocket when the viewer goes away", async () => {
  const { subscription, closed } = pair();
  const body = streamBody(subscription, snapshot, streamFormat("text", 0));
  await body.cancel();
  expect((await closed).code).toBe(1000);
});

it("writes an SSE heartbeat comment after 15 s without events", async () => {
  vi.useFakeTimers();
  try {
    const { subscription } = pair();
    const reader = streamBody(subscription, snapshot, streamFormat("sse", 0)).getReader();
    const decode = async () => new TextDecoder().decode((await reader.read()).value);
    expect(await decode()).toContain("event: snapshot");
    vi.advanceTimersByTime(HEARTBEAT_MS - 1);
    const next = decode();
    vi.advanceTimersByTime(1);
    expect(await next).toBe(": heartbeat\n\n");
    await reader.cancel();
  } finally {
    vi.useRealTimers();
  }
});

it("counts the heartbeat's 15 s from the last write, not from the first", async () => {
  vi.useFakeTimers();
  try {
    const { object, subscription } = pair();
    const reader = streamBody(subscription, snapshot, streamFormat("sse", 0)).getReader();
    const decode = async () => new TextDecoder().decode((await reader.read()).value);
    await decode(); // the snapshot
    vi.advanceTimersByTime(10_000);
    object.send(frame({ seq: 1, at: 1, type: "log", data: { level: "info", message: "hi" } }));
    expect(await decode()).toContain("id: 1");
    let received: string | null = null;
    const next = decode().then((text) => (received = text));
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS - 1); // past 15 s since the snapshot, not since the event
    expect(received).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    await next;
    expect(received).toBe(": heartbeat\n\n");
    await reader.cancel();
  } finally {
    vi.useRealTimers();
  }
});

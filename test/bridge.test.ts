// The Worker's bridge from an object's WebSocket to an HTTP stream: frames arrive in wire
// format and are written through; they are acknowledged while the viewer reads, and not
// while it does not; a viewer that leaves closes its WebSocket.
import { expect, it, vi } from "vitest";
import { ACK_EVERY, HEARTBEAT_MS } from "../src/lib/fanout";
import { HIGH_WATER_BYTES, parseFrame, streamBody, Subscription, type BridgeFrame } from "../src/live/bridge";
import { streamFormat } from "../src/live/formats";
import { TEXT_QUIET_MS } from "../src/live/text";

const snapshot: BridgeFrame = { seq: 0, wire: "retry: 2000\nevent: snapshot\ndata: {}\n\n" };

function pair() {
  const { 0: object, 1: worker } = new WebSocketPair();
  object.accept();
  const acks: string[] = [];
  object.addEventListener("message", (message) => acks.push((JSON.parse(message.data as string) as { token: string }).token));
  const closed = new Promise<CloseEvent>((resolve) => object.addEventListener("close", resolve));
  return { object, subscription: new Subscription(worker, parseFrame), closed, acks };
}

const sse = (seq: number, data: string) => `${seq}\nid: ${seq}\nevent: log\ndata: ${data}\n\n`;

it("reads the seq each frame carries and the token of marks, and skips frames that are not ours", () => {
  for (const bad of ["", "nope", "\nx", "x\ny", "1.5\nz", new ArrayBuffer(2)]) expect(parseFrame(bad)).toBeNull();
  expect(parseFrame("12\nid: 12\n\n")).toEqual({ seq: 12, wire: "id: 12\n\n" });
  expect(parseFrame("7 abcdefgh\n")).toEqual({ seq: 7, wire: "", token: "abcdefgh" });
});

it("writes frames through in order and ends when the object closes the socket", async () => {
  const { object, subscription } = pair();
  const body = streamBody(subscription, snapshot, streamFormat("sse"));
  object.send("garbage");
  object.send(sse(1, "one"));
  object.send(sse(2, "two"));
  object.close(1000, "job finished");
  expect(await new Response(body).text()).toBe(`${snapshot.wire}id: 1\nevent: log\ndata: one\n\nid: 2\nevent: log\ndata: two\n\n`);
});

it("answers the object's marks as the viewer reads, and not while it does not", async () => {
  const { object, subscription, acks } = pair();
  const reader = streamBody(subscription, snapshot, streamFormat("sse")).getReader();
  const line = "x".repeat(8 * 1024);
  // A little, then a mark: with room in the response, the bridge answers at once.
  for (let seq = 1; seq <= 2; seq++) object.send(sse(seq, line));
  object.send("2 markAAAA\n");
  await vi.waitFor(() => expect(acks).toEqual(["markAAAA"]));
  // More than the response's high-water mark, unread: the next mark waits, however long.
  const last = 2 + Math.ceil((HIGH_WATER_BYTES + 2 * ACK_EVERY) / line.length);
  for (let seq = 3; seq <= last; seq++) object.send(sse(seq, line));
  object.send(`${last} markBBBB\n`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(acks).toEqual(["markAAAA"]);
  // The viewer reads everything and waits for more (as a response body's reader does):
  // the bridge answers the mark.
  for (let read = 0; read <= last; read++) await reader.read();
  const waiting = reader.read();
  await vi.waitFor(() => expect(acks).toEqual(["markAAAA", "markBBBB"]));
  await reader.cancel();
  await waiting;
});

it("closes the WebSocket when the viewer goes away", async () => {
  const { subscription, closed } = pair();
  const body = streamBody(subscription, snapshot, streamFormat("text"));
  await body.cancel();
  expect((await closed).code).toBe(1000);
});

it("writes an SSE heartbeat comment after 15 s without frames", async () => {
  vi.useFakeTimers();
  try {
    const { subscription } = pair();
    const reader = streamBody(subscription, snapshot, streamFormat("sse")).getReader();
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
    const reader = streamBody(subscription, snapshot, streamFormat("sse")).getReader();
    const decode = async () => new TextDecoder().decode((await reader.read()).value);
    await decode(); // the snapshot
    vi.advanceTimersByTime(10_000);
    object.send(sse(1, "hi"));
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

// Every byte shows in a terminal, so text has no invisible heartbeat; but a viewer that
// hung up is noticed only when a write fails, and holds its subscriber slot until then.
it("writes a text stream quiet for 5 minutes a line saying so", async () => {
  vi.useFakeTimers();
  try {
    const { subscription } = pair();
    const reader = streamBody(subscription, { seq: 0, wire: "first line\n" }, streamFormat("text")).getReader();
    const decode = async () => new TextDecoder().decode((await reader.read()).value);
    expect(await decode()).toBe("first line\n");
    let received: string | null = null;
    const next = decode().then((text) => (received = text));
    await vi.advanceTimersByTimeAsync(TEXT_QUIET_MS - 1);
    expect(received).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    await next;
    expect(received).toMatch(/^\d\d:\d\d:\d\d\.\d{3} …  nothing new for 5 minutes; still following\n$/);
    await reader.cancel();
  } finally {
    vi.useRealTimers();
  }
});

it("ends a text stream with a line saying so when the object goes away (a restart), and quietly when the job ended", async () => {
  const lost = pair();
  const body = streamBody(lost.subscription, { seq: 0, wire: "first line\n" }, streamFormat("text"));
  lost.object.close(1001, "going away");
  expect(await new Response(body).text()).toMatch(/^first line\n\d{2}:\d{2}:\d{2}\.\d{3} …  lost the job's live stream; run the command again to follow it\n$/);
  const ended = pair();
  const quiet = streamBody(ended.subscription, { seq: 0, wire: "first line\n" }, streamFormat("text"));
  ended.object.close(1000, "the end");
  expect(await new Response(quiet).text()).toBe("first line\n");
});

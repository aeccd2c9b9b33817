// The hub of many sources on one connection: a source dropped while it opens lets its socket go; batches pass as they came.
import { expect, it, vi } from "vitest";
import { Hub, tagged, taggedLines } from "../../src/live/hub";

it("closes a socket that opened after its source was unsubscribed, without an error", async () => {
  let opened!: (socket: WebSocket) => void;
  const pending = new Promise<WebSocket>((resolve) => (opened = resolve));
  const ends: string[] = [];
  const hub = new Hub(() => pending, { frame: () => {}, batch: () => {}, end: (source) => ends.push(source), error: () => {} });
  const subscribing = hub.subscribe("job-1", 0);
  hub.unsubscribe("job-1");
  const [socket, peer] = Object.values(new WebSocketPair());
  peer!.accept();
  const closed = new Promise<number>((resolve) => peer!.addEventListener("close", (event) => resolve(event.code)));
  opened(socket!);
  expect(await subscribing).toBe("refused");
  expect(await closed).toBe(1000);
  expect(ends).toEqual(["job-1"]);
});

it("serves a source subscribed again while its first socket opened from the new subscribe's since, not the old one's", async () => {
  const pending = new Map<number, (socket: WebSocket) => void>();
  const hub = new Hub((_source, since) => new Promise<WebSocket>((resolve) => pending.set(since, resolve)), { frame: () => {}, batch: () => {}, end: () => {}, error: () => {} });
  const first = hub.subscribe("job-1", 15);
  hub.unsubscribe("job-1");
  const second = hub.subscribe("job-1", 0);
  // The first socket (since 15) opens only now, while the second subscribe waits for its own.
  const [oldSocket, oldPeer] = Object.values(new WebSocketPair());
  oldPeer!.accept();
  const oldClosed = new Promise<number>((resolve) => oldPeer!.addEventListener("close", (event) => resolve(event.code)));
  pending.get(15)!(oldSocket!);
  expect(await first).toBe("refused");
  expect(await oldClosed).toBe(1000);
  const [newSocket, newPeer] = Object.values(new WebSocketPair());
  newPeer!.accept();
  pending.get(0)!(newSocket!);
  expect(await second).toBe("subscribed");
  expect(hub.size).toBe(1);
  hub.close();
});

it("refuses only the source whose object cannot be reached (restarting, overloaded), as unavailable: the connection's other sources go on", async () => {
  const told: string[] = [];
  const hub = new Hub(() => Promise.reject(new Error("Durable Object is overloaded")), {
    frame: () => {}, batch: () => {}, end: (source, cause) => told.push(`end ${source} ${cause}`), error: (source, code) => told.push(`error ${source} ${code}`),
  });
  expect(await hub.subscribe("job-1", 0)).toBe("refused");
  expect(told).toEqual(["error job-1 unavailable"]);
  expect(hub.size).toBe(0);
});

it("passes a lone frame on as it came and a batch whole, tagged a line each, and passes on the ack of the mark that ends a batch", async () => {
  expect(tagged("job-1", '{"type":"event","n":1}')).toBe('{"source":"job-1","type":"event","n":1}');
  expect(taggedLines("job-1", '{"type":"event","text":"a\\nb {"}\n{"type":"mark","token":"t1"}'))
    .toBe('{"source":"job-1","type":"event","text":"a\\nb {"}\n{"source":"job-1","type":"mark","token":"t1"}');
  const [socket, peer] = Object.values(new WebSocketPair());
  const acks: string[] = [];
  peer!.addEventListener("message", (message) => acks.push(message.data as string));
  peer!.accept();
  const got: string[] = [];
  const hub = new Hub(async () => socket!, { frame: (_source, frame) => got.push(`lone ${frame}`), batch: (_source, frames) => got.push(frames), end: () => {}, error: () => {} });
  expect(await hub.subscribe("job-1", 0)).toBe("subscribed");
  const batch = '{"type":"event","n":1}\n{"type":"event","n":2}\n{"type":"mark","seq":2,"token":"t1"}';
  peer!.send('{"type":"event","n":0}');
  peer!.send(batch);
  await vi.waitFor(() => expect(got).toEqual(['lone {"type":"event","n":0}', batch]));
  hub.ack("job-1", "made-up");
  hub.ack("job-1", "t1");
  await vi.waitFor(() => expect(acks).toEqual([JSON.stringify({ type: "ack", token: "t1" })]));
  hub.close();
});

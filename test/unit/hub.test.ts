// The hub of many sources on one connection: a source dropped while it opens lets its socket go.
import { expect, it } from "vitest";
import { Hub } from "../../src/live/hub";

it("closes a socket that opened after its source was unsubscribed, without an error", async () => {
  let opened!: (socket: WebSocket) => void;
  const pending = new Promise<WebSocket>((resolve) => (opened = resolve));
  const ends: string[] = [];
  const hub = new Hub(() => pending, { frame: () => {}, end: (source) => ends.push(source), error: () => {} });
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

// The client tells a dead connection from a quiet one: a WebSocket that does not answer
// its ping, or an SSE stream without even a heartbeat, is dropped and resumed after the
// last event, where a half-open connection would otherwise look live until TCP gives up.
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import type { JobEvent, JobSnapshot, ServerFrame } from "../../src/protocol";
import { createClient, type LiveStatus } from "../../src/sdk/client";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const log = (seq: number): JobEvent => ({ seq, at: 0, type: "log", data: { level: "info", message: `line ${seq}` } });
const end = (seq: number): JobEvent => ({ seq, at: 0, type: "result", data: { result: null } });

/** A WebSocket that only does what the test makes it do. */
class FakeSocket extends EventTarget {
  static made: FakeSocket[] = [];
  readonly sent: string[] = [];
  closed = false;
  constructor(readonly url: string) {
    super();
    FakeSocket.made.push(this);
  }
  send(text: string): void {
    this.sent.push(text);
  }
  close(): void {
    this.closed = true; // a dead connection never completes its closing handshake: no close event
  }
  open(): void {
    this.dispatchEvent(new Event("open"));
  }
  receive(frame: ServerFrame | "pong"): void {
    this.dispatchEvent(new MessageEvent("message", { data: typeof frame === "string" ? frame : JSON.stringify(frame) }));
  }
}

function followed(client: ReturnType<typeof createClient>, statuses: LiveStatus[]): JobEvent[] {
  const events: JobEvent[] = [];
  void (async () => {
    for await (const event of client.follow("job-1", { onStatus: (status) => statuses.push(status) })) events.push(event);
  })();
  return events;
}

it("drops a WebSocket that does not answer its ping, and resumes after the last event", async () => {
  FakeSocket.made = [];
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: FakeSocket as unknown as new (url: string) => WebSocket, backoff: { initialMs: 1, maxMs: 1 } });
  const statuses: LiveStatus[] = [];
  const events = followed(client, statuses);
  const first = FakeSocket.made[0]!;
  first.open();
  first.receive({ type: "event", event: log(1) });
  // Quiet but answering: kept, however long the job sleeps.
  for (let i = 0; i < 5; i++) {
    await vi.advanceTimersByTimeAsync(20_000);
    expect(first.sent.at(-1)).toBe("ping");
    first.receive("pong");
  }
  expect(FakeSocket.made).toHaveLength(1);
  expect(statuses).toEqual(["connecting", "live"]);
  // Then it stops answering: dropped within the ping's wait, and followed again from event 1.
  await vi.advanceTimersByTimeAsync(20_000);
  expect(first.sent.at(-1)).toBe("ping");
  await vi.advanceTimersByTimeAsync(10_000);
  expect(first.closed).toBe(true);
  await vi.advanceTimersByTimeAsync(10);
  expect(statuses.at(-1)).toBe("reconnecting");
  expect(FakeSocket.made).toHaveLength(2);
  const second = FakeSocket.made[1]!;
  expect(second.url).toBe("ws://jobs.test/jobs/job-1/ws?since=1&batch");
  second.open();
  // What the dead socket still delivers late is ignored; the new one goes on.
  first.receive({ type: "event", event: log(2) });
  second.receive({ type: "event", event: log(2) });
  second.receive({ type: "event", event: end(3) });
  await vi.advanceTimersByTimeAsync(0);
  expect(events.map((event) => event.seq)).toEqual([1, 2, 3]);
});

it("says it is reconnecting as soon as a connection drops, not when its next try starts after the backoff's wait", async () => {
  FakeSocket.made = [];
  vi.spyOn(Math, "random").mockReturnValue(1);
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: FakeSocket as unknown as new (url: string) => WebSocket, backoff: { initialMs: 10_000, maxMs: 10_000 } });
  const statuses: LiveStatus[] = [];
  followed(client, statuses);
  const first = FakeSocket.made[0]!;
  first.open();
  first.receive({ type: "event", event: log(1) });
  expect(statuses).toEqual(["connecting", "live"]);
  first.dispatchEvent(new CloseEvent("close", { code: 1006 }));
  await vi.advanceTimersByTimeAsync(10);
  expect(statuses).toEqual(["connecting", "live", "reconnecting"]);
  expect(FakeSocket.made).toHaveLength(1);
  // The next try comes after the wait, still reconnecting until it is live.
  await vi.advanceTimersByTimeAsync(10_000);
  expect(FakeSocket.made).toHaveLength(2);
  FakeSocket.made[1]!.open();
  await vi.advanceTimersByTimeAsync(0);
  expect(statuses).toEqual(["connecting", "live", "reconnecting", "live"]);
});

it("drops an SSE stream that sends nothing, not even a heartbeat, for 45 s, and resumes after the last event", async () => {
  const streams: { headers: Headers; write(text: string): void }[] = [];
  const fetcher = async (_url: string | URL | Request, init?: RequestInit) => {
    const encoder = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    streams.push({ headers: new Headers(init?.headers), write: (text) => controller.enqueue(encoder.encode(text)) });
    return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
  };
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: null, fetch: fetcher as typeof fetch, backoff: { initialMs: 1, maxMs: 1 } });
  const statuses: LiveStatus[] = [];
  const events = followed(client, statuses);
  await vi.advanceTimersByTimeAsync(0);
  const first = streams[0]!;
  first.write(`id: 1\nevent: log\ndata: ${JSON.stringify(log(1))}\n\n`);
  // Heartbeats every 15 s keep it.
  for (let i = 0; i < 6; i++) {
    await vi.advanceTimersByTimeAsync(15_000);
    first.write(": heartbeat\n\n");
  }
  expect(streams).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(44_000);
  expect(streams).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(1_010);
  expect(statuses).toContain("reconnecting");
  expect(streams).toHaveLength(2);
  const second = streams[1]!;
  expect(second.headers.get("Last-Event-ID")).toBe("1");
  second.write(`id: 2\nevent: log\ndata: ${JSON.stringify(log(2))}\n\nid: 3\nevent: result\ndata: ${JSON.stringify(end(3))}\n\n`);
  await vi.advanceTimersByTimeAsync(0);
  expect(events.map((event) => event.seq)).toEqual([1, 2, 3]);
});

/** Follows a job whose every answer is a 429 with this Retry-After; the times it was asked. */
function refusedWith(retryAfter: () => string): { asked: number[]; abort: AbortController } {
  const asked: number[] = [];
  const fetcher = async () => {
    asked.push(Date.now());
    return Response.json({ error: { code: "too_many_subscribers", message: "full" } }, { status: 429, headers: { "Retry-After": retryAfter() } });
  };
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: null, fetch: fetcher as typeof fetch, backoff: { initialMs: 1, maxMs: 1 } });
  const abort = new AbortController();
  void (async () => {
    for await (const _ of client.follow("job-1", { signal: abort.signal })) void _;
  })();
  return { asked, abort };
}

it("waits as long as a 429's Retry-After asks before trying again (a full job frees a slot only when a viewer leaves)", async () => {
  const { asked, abort } = refusedWith(() => "10");
  await vi.advanceTimersByTimeAsync(9_990);
  expect(asked).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(20);
  expect(asked).toHaveLength(2);
  expect(asked[1]! - asked[0]!).toBeGreaterThanOrEqual(10_000);
  abort.abort();
});

it("waits at most a minute however long a Retry-After asks: a huge one (past a timer's 2^31 ms) came back at once, again and again", async () => {
  const { asked, abort } = refusedWith(() => "3000000");
  await vi.advanceTimersByTimeAsync(59_990);
  expect(asked).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(20);
  expect(asked).toHaveLength(2);
  abort.abort();
});

it("waits until a Retry-After given as an HTTP-date (it came back at once)", async () => {
  const { asked, abort } = refusedWith(() => new Date(Math.ceil((Date.now() + 30_000) / 1000) * 1000).toUTCString());
  await vi.advanceTimersByTimeAsync(29_000);
  expect(asked).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(2_000);
  expect(asked).toHaveLength(2);
  abort.abort();
});

it("ends at once when the caller aborts while it waits to reconnect, not after the wait", async () => {
  vi.spyOn(Math, "random").mockReturnValue(0.99);
  const fetcher = async () => {
    throw new TypeError("fetch failed");
  };
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: null, fetch: fetcher as typeof fetch, backoff: { initialMs: 15_000, maxMs: 15_000 } });
  const abort = new AbortController();
  let ended = false;
  void (async () => {
    for await (const _ of client.follow("job-1", { signal: abort.signal })) void _;
    ended = true;
  })();
  await vi.advanceTimersByTimeAsync(1_000);
  expect(ended).toBe(false);
  abort.abort();
  await vi.advanceTimersByTimeAsync(10);
  expect(ended).toBe(true);
});

it("closes the WebSocket when the caller leaves its loop early, and does not reconnect", async () => {
  FakeSocket.made = [];
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: FakeSocket as unknown as new (url: string) => WebSocket, backoff: { initialMs: 1, maxMs: 1 } });
  let ended = false;
  void (async () => {
    for await (const event of client.follow("job-1")) if (event.seq === 1) break;
    ended = true;
  })();
  const socket = FakeSocket.made[0]!;
  socket.open();
  socket.receive({ type: "event", event: log(1) });
  await vi.advanceTimersByTimeAsync(10);
  expect(ended).toBe(true);
  expect(socket.closed).toBe(true);
  await vi.advanceTimersByTimeAsync(60_000);
  expect(FakeSocket.made).toHaveLength(1);
  expect(socket.sent).toEqual([]); // not even pinged: nothing watches it any more
});

it("ends the owner feed's request when the caller leaves its loop early", async () => {
  const signals: AbortSignal[] = [];
  const fetcher = async (_url: string | URL | Request, init?: RequestInit) => {
    signals.push(init!.signal!);
    const frame = { type: "event", source: "feed-0", event: { seq: 1, id: "job-1", state: "running", counts: { queued: 0, running: 1, succeeded: 0, failed: 0, canceled: 0 } } };
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(`data: ${JSON.stringify(frame)}\n\n`));
        init!.signal!.addEventListener("abort", () => controller.error(init!.signal!.reason));
      },
    });
    return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
  };
  const client = createClient({ baseUrl: "http://jobs.test", token: "t", WebSocket: null, fetch: fetcher as typeof fetch, backoff: { initialMs: 1, maxMs: 1 } });
  let seen = 0;
  for await (const entry of client.feed()) {
    seen = entry.seq;
    break;
  }
  expect(seen).toBe(1);
  await vi.advanceTimersByTimeAsync(60_000);
  expect(signals).toHaveLength(1);
  expect(signals[0]!.aborted).toBe(true);
});

it("ends a WebSocket follow at the terminal event, without waiting for the socket's close", async () => {
  // Node's WebSocket fires `close` only once the TCP connection closes, which workerd does
  // when it evicts the idle object, some 10 s after the job ended.
  FakeSocket.made = [];
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: FakeSocket as unknown as new (url: string) => WebSocket, backoff: { initialMs: 1, maxMs: 1 } });
  const seqs: number[] = [];
  let ended = false;
  void (async () => {
    for await (const event of client.follow("job-1")) seqs.push(event.seq);
    ended = true;
  })();
  const socket = FakeSocket.made[0]!;
  socket.open();
  socket.receive({ type: "event", event: log(1) });
  socket.receive({ type: "event", event: end(2) });
  await vi.advanceTimersByTimeAsync(0);
  expect(seqs).toEqual([1, 2]);
  expect(ended).toBe(true);
  expect(socket.closed).toBe(true);
  await vi.advanceTimersByTimeAsync(60_000);
  expect(FakeSocket.made).toHaveLength(1);
});

it("asks for batches and takes a message of several frames, a line each: every event once, its mark answered, the end mid-batch final", async () => {
  FakeSocket.made = [];
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: FakeSocket as unknown as new (url: string) => WebSocket, backoff: { initialMs: 1, maxMs: 1 } });
  const seqs: number[] = [];
  void (async () => {
    for await (const event of client.follow("job-1")) seqs.push(event.seq);
  })();
  const socket = FakeSocket.made[0]!;
  expect(new URL(socket.url).searchParams.has("batch")).toBe(true);
  socket.open();
  const batch = (frames: unknown[]) => socket.dispatchEvent(new MessageEvent("message", { data: frames.map((frame) => JSON.stringify(frame)).join("\n") }));
  batch([{ type: "event", event: log(1) }, { type: "event", event: log(2) }, { type: "mark", seq: 2, token: "t1" }]);
  await vi.advanceTimersByTimeAsync(0);
  expect(seqs).toEqual([1, 2]);
  expect(socket.sent).toEqual([JSON.stringify({ type: "ack", token: "t1" })]);
  batch([{ type: "event", event: log(3) }, { type: "event", event: end(4) }, { type: "event", event: log(5) }]);
  await vi.advanceTimersByTimeAsync(0);
  expect(seqs).toEqual([1, 2, 3, 4]);
  expect(socket.closed).toBe(true);
});

/** Reads an owner feed of two shards whose first response is `messages`; what it gave, and the URL it resumed with. */
async function feedResumed(messages: string[]): Promise<{ seen: number[]; resumedWith: string | undefined }> {
  const urls: string[] = [];
  const fetcher = async (url: string | URL | Request) => {
    urls.push(String(url));
    return new Response(urls.length === 1 ? messages.join("") : "", { headers: { "Content-Type": "text/event-stream" } });
  };
  const client = createClient({ baseUrl: "http://jobs.test", token: "t", WebSocket: null, fetch: fetcher as typeof fetch, backoff: { initialMs: 1, maxMs: 1 } });
  const abort = new AbortController();
  const seen: number[] = [];
  void (async () => {
    for await (const entry of client.feed({ signal: abort.signal })) seen.push(entry.seq);
  })();
  await vi.advanceTimersByTimeAsync(10);
  abort.abort();
  return { seen, resumedWith: urls[1] };
}

it("resumes a sharded owner feed where the server's `id:` says: every shard's position, in shard order", async () => {
  // The server reads `since` as one seq per shard, dot-separated in shard order, and names
  // them all in each event's `id:`. Counting the shards it had heard from, the client sent
  // "5" (feed-0's snapshot not come yet) or "0" (feed-0 could not be subscribed: an `error`
  // frame, never a snapshot): a 400 that ended the feed.
  const counts = { queued: 0, running: 1, waiting: 0, succeeded: 0, failed: 0, canceled: 0 };
  const data = (frame: object) => `data: ${JSON.stringify(frame)}\n\n`;
  const entry = (seq: number) => `id: 0.${seq}\n${data({ type: "event", source: "feed-1", event: { seq, at: 0, type: "removed", data: { id: "job-1" }, counts } })}`;
  const notYet = await feedResumed([data({ type: "snapshot", source: "feed-1", snapshot: { counts, lastSeq: 5 } }), entry(5)]);
  expect(notYet).toEqual({ seen: [5], resumedWith: "http://jobs.test/feed/sse?since=0.5" });
  const refused = await feedResumed([
    data({ type: "error", source: "feed-0", error: { code: "refused", message: "Refused" } }),
    data({ type: "snapshot", source: "feed-1", snapshot: { counts, lastSeq: 7 } }),
    entry(7),
  ]);
  expect(refused).toEqual({ seen: [7], resumedWith: "http://jobs.test/feed/sse?since=0.7" });
});

it("ends a follow at once when its socket closes because the job was deleted, without a reconnect's wait", async () => {
  FakeSocket.made = [];
  const gets: string[] = [];
  const fetcher = async (url: string) => {
    gets.push(url);
    return Response.json({ error: { code: "gone", message: "This job was deleted or expired" } }, { status: 410 });
  };
  // A reconnect would wait 15 s: the job page would show the job live that long.
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: FakeSocket as unknown as new (url: string) => WebSocket, fetch: fetcher as typeof fetch, backoff: { initialMs: 15_000, maxMs: 15_000 } });
  let failure: unknown = null;
  void (async () => {
    try {
      for await (const _ of client.follow("job-1")) void _;
    } catch (error) {
      failure = error;
    }
  })();
  const socket = FakeSocket.made[0]!;
  socket.open();
  socket.receive({ type: "event", event: log(1) });
  socket.dispatchEvent(Object.assign(new Event("close"), { code: 1000, reason: "job deleted" }));
  await vi.advanceTimersByTimeAsync(10);
  expect(gets).toEqual(["http://jobs.test/jobs/job-1"]);
  expect(failure).toMatchObject({ status: 410, code: "gone" });
  expect(FakeSocket.made).toHaveLength(1);
});

it("ends a WebSocket follow whose `since` is at or past the end of a job that has ended (it reconnected every 10 s for good)", async () => {
  // The server answers such a socket with the snapshot alone, as SSE answers 204. Node's
  // WebSocket fires `close` only some 10 s later, and each reconnect met the same snapshot.
  FakeSocket.made = [];
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: FakeSocket as unknown as new (url: string) => WebSocket, backoff: { initialMs: 1, maxMs: 1 } });
  for (const since of [3, 40]) {
    const seqs: number[] = [];
    let ended = false;
    void (async () => {
      for await (const event of client.follow("job-1", { since })) seqs.push(event.seq);
      ended = true;
    })();
    const socket = FakeSocket.made.at(-1)!;
    expect(socket.url).toBe(`ws://jobs.test/jobs/job-1/ws?since=${since}&batch`);
    socket.open();
    socket.receive({ type: "snapshot", snapshot: { state: "succeeded", lastSeq: 3 } as JobSnapshot });
    await vi.advanceTimersByTimeAsync(0);
    expect(ended).toBe(true);
    expect(socket.closed).toBe(true);
  }
  await vi.advanceTimersByTimeAsync(60_000);
  expect(FakeSocket.made).toHaveLength(2);
});

it("follows on over a WebSocket whose snapshot shows an ended job with events after `since`", async () => {
  FakeSocket.made = [];
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: FakeSocket as unknown as new (url: string) => WebSocket, backoff: { initialMs: 1, maxMs: 1 } });
  const seqs: number[] = [];
  void (async () => {
    for await (const event of client.follow("job-1", { since: 2 })) seqs.push(event.seq);
  })();
  const socket = FakeSocket.made[0]!;
  socket.open();
  socket.receive({ type: "snapshot", snapshot: { state: "succeeded", lastSeq: 3 } as JobSnapshot });
  socket.receive({ type: "event", event: end(3) });
  await vi.advanceTimersByTimeAsync(0);
  expect(seqs).toEqual([3]);
});

it("drops a WebSocket whose handshake is never answered, and tries again (it stayed 'connecting' for good)", async () => {
  FakeSocket.made = [];
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: FakeSocket as unknown as new (url: string) => WebSocket, backoff: { initialMs: 1, maxMs: 1 } });
  const statuses: LiveStatus[] = [];
  const events = followed(client, statuses);
  const first = FakeSocket.made[0]!;
  await vi.advanceTimersByTimeAsync(14_900);
  expect(first.closed).toBe(false);
  await vi.advanceTimersByTimeAsync(200);
  expect(first.closed).toBe(true);
  expect(statuses).toEqual(["connecting", "reconnecting"]);
  expect(FakeSocket.made).toHaveLength(2);
  const second = FakeSocket.made[1]!;
  second.open();
  second.receive({ type: "event", event: end(1) });
  await vi.advanceTimersByTimeAsync(0);
  expect(events.map((event) => event.seq)).toEqual([1]);
});

it("drops an SSE request whose response never comes, and tries again", async () => {
  const asked: AbortSignal[] = [];
  const fetcher = async (_url: string | URL | Request, init?: RequestInit) => {
    asked.push(init!.signal!);
    // An accepted connection that never answers: only an abort ends the wait.
    return new Promise<Response>((_, reject) => init!.signal!.addEventListener("abort", () => reject(init!.signal!.reason)));
  };
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: null, fetch: fetcher as typeof fetch, backoff: { initialMs: 1, maxMs: 1 } });
  const statuses: LiveStatus[] = [];
  followed(client, statuses);
  await vi.advanceTimersByTimeAsync(14_900);
  expect(asked).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(200);
  expect(asked[0]!.aborted).toBe(true);
  expect(asked).toHaveLength(2);
  expect(statuses).toEqual(["connecting", "reconnecting"]);
});

it("answers a mark only once the caller has taken the events before it, so a caller that stops reading holds the server back", async () => {
  // Answered on arrival, a consumer that paused had the whole history queued in memory (20 MB
  // for 99,000 events, measured against wrangler dev), whatever the server's flow control.
  FakeSocket.made = [];
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: FakeSocket as unknown as new (url: string) => WebSocket, backoff: { initialMs: 1, maxMs: 1 } });
  const events = client.follow("job-1");
  const socket = FakeSocket.made[0]!;
  socket.open();
  for (const seq of [1, 2, 3]) socket.receive({ type: "event", event: log(seq) });
  socket.receive({ type: "mark", seq: 3, token: "t3" });
  await vi.advanceTimersByTimeAsync(0);
  expect(socket.sent).toEqual([]);
  expect((await events.next()).value).toMatchObject({ seq: 1 });
  expect((await events.next()).value).toMatchObject({ seq: 2 });
  await vi.advanceTimersByTimeAsync(0);
  expect(socket.sent).toEqual([]);
  expect((await events.next()).value).toMatchObject({ seq: 3 });
  await vi.advanceTimersByTimeAsync(0);
  expect(socket.sent).toEqual([JSON.stringify({ type: "ack", token: "t3" })]);
  // With nothing left unread, the next mark is answered at once.
  socket.receive({ type: "mark", seq: 3, token: "t4" });
  await vi.advanceTimersByTimeAsync(0);
  expect(socket.sent.at(-1)).toBe(JSON.stringify({ type: "ack", token: "t4" }));
  await events.return!();
});

it("reads an SSE response only as fast as the caller takes its events", async () => {
  let pulled = 0;
  let asked = 0;
  const fetcher = async (_url: string | URL | Request, init?: RequestInit) => {
    // Only the first answer streams; a reconnect is left waiting.
    if (asked++) return new Promise<Response>((_, reject) => init!.signal!.addEventListener("abort", () => reject(init!.signal!.reason)));
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled++;
          controller.enqueue(encoder.encode(`id: ${pulled}\nevent: log\ndata: ${JSON.stringify(log(pulled))}\n\n`));
          if (pulled === 100) controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
  };
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: null, fetch: fetcher as typeof fetch, backoff: { initialMs: 1, maxMs: 1 } });
  const events = client.follow("job-1");
  expect((await events.next()).value).toMatchObject({ seq: 1 });
  await vi.advanceTimersByTimeAsync(1_000);
  expect(pulled).toBeLessThan(5);
  const seqs: number[] = [];
  for (let i = 0; i < 99; i++) seqs.push((await events.next()).value.seq);
  expect(seqs).toEqual(Array.from({ length: 99 }, (_, i) => i + 2));
  await events.return!();
});

it("backs off from connections that drop as soon as they open, and starts over after one that stayed up", async () => {
  // Each connection that opened reset the backoff: a proxy that cut every connection at
  // once had the client back twice a second for good (42 WebSockets in 20 s, measured).
  vi.spyOn(Math, "random").mockReturnValue(0.99);
  FakeSocket.made = [];
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: FakeSocket as unknown as new (url: string) => WebSocket, backoff: { initialMs: 500, maxMs: 15_000 } });
  const abort = new AbortController();
  void (async () => {
    for await (const _ of client.follow("job-1", { signal: abort.signal })) void _;
  })();
  const cutAtOnce = async (ms: number) => {
    const socket = FakeSocket.made.at(-1)!;
    socket.open();
    await vi.advanceTimersByTimeAsync(ms);
    socket.dispatchEvent(Object.assign(new Event("close"), { code: 1006, reason: "" }));
  };
  for (let i = 0; i < 40 && FakeSocket.made.length < 40; i++) {
    const made = FakeSocket.made.length;
    await cutAtOnce(100);
    await vi.advanceTimersByTimeAsync(500);
    if (FakeSocket.made.length === made) break;
  }
  // Waits of 0.5, 1, 2, 4 s...: the fifth connection is not there yet after 5 × 0.6 s.
  expect(FakeSocket.made.length).toBeLessThan(5);
  await vi.advanceTimersByTimeAsync(60_000);
  const before = FakeSocket.made.length;
  // One that stayed up 10 s: the next comes within the first wait again.
  await cutAtOnce(10_000);
  await vi.advanceTimersByTimeAsync(500);
  expect(FakeSocket.made.length).toBe(before + 1);
  abort.abort();
});

it("refuses a `since` that is not an event's seq at once, rather than trying a WebSocket the server refuses for good", () => {
  FakeSocket.made = [];
  const client = createClient({ baseUrl: "http://jobs.test", WebSocket: FakeSocket as unknown as new (url: string) => WebSocket });
  for (const since of [-1, 1.5, Number.NaN, 2 ** 60]) expect(() => client.follow("job-1", { since })).toThrow(RangeError);
  expect(FakeSocket.made).toHaveLength(0);
});

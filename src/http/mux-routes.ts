// Many streams on one connection (src/live/hub.ts):
//   /live/ws, /live/sse?sources=<id>,<id>   several jobs, each with its own `since`
//   /feed/ws, /feed/sse                       the caller's owner feed (every shard)
// A WebSocket client subscribes and unsubscribes as it goes and acks per source; an SSE
// client names its sources up front and resumes all of them with Last-Event-ID. A
// WebSocket client may ask for `?batch`, as on a job's own socket: each batch an object
// sends (see hub.ts) comes as one message, a frame a line.
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { CLOSE, MAX_CLIENT_FRAME_CHARS, PING, PONG, SUBSCRIBER_RETRY_AFTER_S } from "../lib/fanout";
import { safeClose } from "../lib/websocket";
import { openSocket, PacedBody } from "../live/bridge";
import { decodePositions, encodePositions, Hub, hubLimits, isGoneAnswer, MAX_SOURCES, MAX_SUBSCRIBES, tagged, taggedLines, type Opener } from "../live/hub";
import { streamFormat } from "../live/formats";
import { RETRY_MS, SSE_HEADERS } from "../live/sse";
import { indexShard } from "../owners/shards";
import { jobStub } from "../service/create";
import type { MuxClientFrame, MuxServerFrame } from "../protocol";
import type { AppEnv } from "./app-env";
import { unauthorized } from "./auth";
import { ApiError } from "./errors";
import { isGenuineJobId } from "./job-id";
import { clientKey } from "./live-routes";
import { flagParam, singleQueryValues } from "./query";
import { checkWebSocketOrigin, requireConfigured } from "./security";
import { upgradeRefusal } from "./websocket-upgrade";

/** The longest source name a client may give (job ids have 32 characters): what its frames repeat stays small. */
const MAX_SOURCE_CHARS = 64;

/**
 * Client frames a WebSocket answers itself (a ping's pong; a subscribe, which may be
 * refused with an error frame) at once, then one a second; past that the connection is
 * closed (1008). The Worker cannot see what a client has read (its WebSocket has no
 * bufferedAmount), so without this a client that sends pings or refused subscribes and
 * never reads would have the Worker queue answers without end: 50 MiB of pings made it
 * hold some 400 MB.
 */
export const ANSWER_BURST = MAX_SUBSCRIBES;
const ANSWER_EVERY_MS = 1_000;

export function liveApp(): Hono<AppEnv> {
  const live = new Hono<AppEnv>();
  live.use(requireConfigured, singleQueryValues);
  live.get("/ws", (c) => muxSocket(c, jobOpener(c), [], false, null));
  live.get("/sse", async (c) => {
    const sources = [...new Set((c.req.query("sources") ?? "").split(",").filter(Boolean))];
    // A source's name comes back in its frames (an unknown one in a `gone` error): as on the WebSocket, one longer than any job id is refused whole, unrepeated.
    if (sources.length === 0 || sources.length > MAX_SOURCES || sources.some((source) => source.length > MAX_SOURCE_CHARS)) {
      throw new ApiError(400, "invalid_query", `sources must name 1 to ${MAX_SOURCES} job ids, comma-separated`);
    }
    return muxStream(c, jobOpener(c), sources, false, null);
  });
  return live;
}

export function feedApp(): Hono<AppEnv> {
  const feed = new Hono<AppEnv>();
  feed.use(requireConfigured, singleQueryValues);
  feed.get("/ws", (c) => muxSocket(c, feedOpener(c), feedSources(c), true, credentialsEnd(c)));
  feed.get("/sse", (c) => muxStream(c, feedOpener(c), feedSources(c), true, credentialsEnd(c)));
  return feed;
}

/**
 * When the credentials a feed was opened with expire (a JWT's `exp`, a dashboard
 * session's), in epoch ms; null for an owner token, which does not. The feed ends then:
 * a connection must not show an owner's jobs for longer than its credentials could.
 */
function credentialsEnd(c: Context<AppEnv>): number | null {
  const principal = c.var.principal;
  return principal.kind === "owner" && principal.expiresAt !== undefined ? principal.expiresAt * 1000 : null;
}

/** Runs `then` at `at` (epoch ms), past setTimeout's longest delay too (2^31 - 1 ms, ~24.8 days); returns its cancel. */
function runAt(at: number | null, then: () => void): () => void {
  if (at === null) return () => {};
  let timer: ReturnType<typeof setTimeout>;
  const arm = () => {
    const wait = at - Date.now();
    timer = wait > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(then, Math.max(0, wait));
  };
  arm();
  return () => clearTimeout(timer);
}

const MAX_TIMER_MS = 2 ** 31 - 1;

function noneExists(): ApiError {
  return new ApiError(410, "gone", "None of these jobs exists: each was deleted, expired, or never made.");
}

/**
 * What a subscription to the source would find, asked without one (for a HEAD): no job (an
 * id that is none of ours is not even asked), a job whose end a resuming viewer has seen,
 * a job with no room for another subscriber, a job whose object cannot be reached just
 * now (its GET says so in the job's error frame, as the hub does), or something to follow.
 * The job's object answers as it would a subscribe (`probe`), and keeps no subscriber.
 */
async function jobOutcome(c: Context<AppEnv>, source: string, since: number, resuming: boolean): Promise<"gone" | "ended" | "full" | "unavailable" | "subscribed"> {
  if (!(await isGenuineJobId(c.var.access.jobIdSecrets, source))) return "gone";
  const query: Record<string, string> = { since: String(since), format: "json", client: clientKey(c), probe: "" };
  if (resuming) query.resume = "";
  const probe = await openSocket(jobStub(c.env, source), query).catch(() => null);
  if (probe === null) return "unavailable";
  if (!(probe instanceof Response)) {
    // An object from before `probe` (a rolling deploy) subscribed us: let it go (a socket
    // from an upgrade can be closed only once accepted).
    probe.accept();
    safeClose(probe, CLOSE.normal, "a HEAD");
    return "subscribed";
  }
  return isGoneAnswer(probe.status) ? "gone" : probe.status === 204 ? "ended" : probe.status === 429 ? "full" : "subscribed";
}

function jobOpener(c: Context<AppEnv>): Opener {
  return async (source, since) => {
    if (!(await isGenuineJobId(c.var.access.jobIdSecrets, source))) return new Response(null, { status: 404 });
    const query: Record<string, string> = { since: String(since), format: "json", client: clientKey(c), batch: "" };
    if (c.req.header("Last-Event-ID") !== undefined) query.resume = "";
    return openSocket(jobStub(c.env, source), query);
  };
}

function feedOwner(c: Context<AppEnv>): string {
  const principal = c.var.principal;
  if (principal.kind !== "owner") throw unauthorized("The feed of your jobs needs credentials: Authorization: Bearer <token or JWT>, or a dashboard session");
  return principal.owner;
}

/** The feed's sources, one per index shard: "feed-0", "feed-1", … */
function feedSources(c: Context<AppEnv>): string[] {
  feedOwner(c);
  return Array.from({ length: c.var.config.indexShards }, (_, shard) => `feed-${shard}`);
}

function feedOpener(c: Context<AppEnv>): Opener {
  const owner = feedOwner(c);
  return (source, since) => {
    const shard = Number(source.slice("feed-".length));
    return openSocket(indexShard(c.env, owner, shard), { since: String(since), format: "json", client: clientKey(c), batch: "" });
  };
}

/**
 * The WebSocket: `sources` are subscribed at once (from `?since=`), others as the client
 * asks; `?batch` as on a job's own socket. `isFeed`: the sources are the owner feed's
 * shards, which never end (jobs do).
 */
function muxSocket(c: Context<AppEnv>, open: Opener, sources: string[], isFeed: boolean, endsAt: number | null): Response {
  const refusal = upgradeRefusal(c.req.raw.headers);
  if (refusal) throw refusal;
  checkWebSocketOrigin(c);
  const positions = decodePositions(sources, c.req.query("since"), isFeed);
  if (!positions) throw new ApiError(400, "invalid_query", "since must give one seq per source, dot-separated");
  const batch = flagParam(c, "batch", false);
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  const send = (frame: string) => {
    try {
      server.send(frame);
    } catch {
      // The client left; the close handler ends the sources.
    }
  };
  const notice = (frame: MuxServerFrame) => send(JSON.stringify(frame));
  // A source whose object went away mid-stream (it restarted, as in a deploy) has more to
  // send, and a feed's shards never end: either way the connection is closed, 1013, and the
  // client reconnects with every source's position, missing nothing. An `end` frame there
  // would read as the job's end; a feed left open would follow the other shards only.
  const reconnect = (reason: string) => !shut && shutDown(CLOSE.tryAgainLater, reason);
  const hub = new Hub(open, {
    frame: (source, frame) => send(tagged(source, frame)),
    // `?batch`: the object's batch is one message here too (a client pays ~0.1 ms a message).
    batch: (source, frames) => {
      if (batch) return send(taggedLines(source, frames));
      for (const frame of frames.split("\n")) send(tagged(source, frame));
    },
    end: (source, cause) => {
      if (cause === "lost") return void reconnect("a source's stream was cut (its object restarted): reconnect");
      notice({ type: "end", source });
      if (isFeed && cause === "ended") reconnect("a shard of the feed ended: reconnect");
    },
    error: (source, code, message) => {
      notice({ type: "error", source, error: { code, message } });
      if (isFeed) reconnect("a shard of the feed could not be followed: reconnect");
    },
  }, hubLimits(sources.length));
  // Closed by us: nothing the client sends after is acted on, and its sources go at once
  // (a client that does not read would not answer the close, whose event releases them).
  let shut = false;
  const release = () => {
    stopTimer();
    clearInterval(idleWatch);
    hub.close();
  };
  const shutDown = (code: number, reason: string) => {
    shut = true;
    safeClose(server, code, reason);
    release();
  };
  const stopTimer = runAt(endsAt, () => shutDown(CLOSE.policyViolation, "credentials expired"));
  // Following nothing (never subscribed, or every source ended) for LIVE_IDLE_TIMEOUT:
  // closed, as an idle connection would otherwise hold the Worker's socket for nothing.
  const idleMs = c.var.config.liveIdleMs;
  let idleSince = Date.now();
  const idleWatch = setInterval(() => {
    if (hub.size > 0) idleSince = Date.now();
    else if (Date.now() - idleSince >= idleMs) shutDown(CLOSE.normal, "following nothing");
  }, idleMs / 4);
  for (const [source, since] of positions) void hub.subscribe(source, since);
  const mayAnswer = answerBudget();
  const tooMany = () => shutDown(CLOSE.policyViolation, `too many frames: pings and subscribes are answered ${ANSWER_BURST} at once, then one a second`);
  server.addEventListener("message", (message) => {
    if (shut) return;
    if (message.data === PING) return mayAnswer() ? send(PONG) : tooMany();
    // As on a job's own socket (fanout.ts): binary 1003, too long 1009, anything else unexpected 1008.
    if (typeof message.data !== "string") return shutDown(CLOSE.unsupportedData, "binary frames are not supported");
    if (message.data.length > MAX_CLIENT_FRAME_CHARS) return shutDown(CLOSE.tooBig, "frame too large");
    const frame = parseClientFrame(message.data);
    if (!frame) return shutDown(CLOSE.policyViolation, "expected subscribe, unsubscribe or ack frames (JSON), or ping");
    if (frame.type === "subscribe") {
      if (!mayAnswer()) return tooMany();
      // Only the job routes take new sources; a feed's sources are its shards.
      if (sources.length > 0) return notice({ type: "error", source: frame.source, error: { code: "refused", message: "This connection's sources are fixed" } });
      return void hub.subscribe(frame.source, frame.since ?? 0);
    }
    if (frame.type === "unsubscribe") return hub.unsubscribe(frame.source);
    hub.ack(frame.source, frame.token);
  });
  server.addEventListener("close", release);
  return new Response(null, { status: 101, webSocket: client });
}

/** A token bucket of ANSWER_BURST, one back every ANSWER_EVERY_MS: whether one more frame may be answered now. */
function answerBudget(): () => boolean {
  let tokens = ANSWER_BURST;
  let at = Date.now();
  return () => {
    const now = Date.now();
    tokens = Math.min(ANSWER_BURST, tokens + Math.max(0, now - at) / ANSWER_EVERY_MS);
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

function parseClientFrame(text: string): MuxClientFrame | null {
  let frame: Partial<Record<string, unknown>>;
  try {
    frame = JSON.parse(text) as Partial<Record<string, unknown>>;
  } catch {
    return null;
  }
  if (typeof frame !== "object" || frame === null || typeof frame.source !== "string" || frame.source.length > MAX_SOURCE_CHARS) return null;
  const seq = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
  if (frame.type === "subscribe" && (frame.since === undefined || seq(frame.since))) return { type: "subscribe", source: frame.source, since: frame.since as number | undefined };
  if (frame.type === "unsubscribe") return { type: "unsubscribe", source: frame.source };
  if (frame.type === "ack" && typeof frame.token === "string") return { type: "ack", source: frame.source, token: frame.token };
  return null;
}

/**
 * The SSE response: one message per frame, `id:` the positions of every source. Each
 * source's marks are answered as the response is read, as the single-job bridge does.
 * `isFeed` as for muxSocket: jobs' responses end when every job has, a feed's never.
 */
async function muxStream(c: Context<AppEnv>, open: Opener, sources: string[], isFeed: boolean, endsAt: number | null): Promise<Response> {
  const resuming = c.req.header("Last-Event-ID") !== undefined;
  const positions = decodePositions(sources, c.req.header("Last-Event-ID") ?? c.req.query("since"), isFeed);
  if (!positions) throw new ApiError(400, "invalid_query", "since and Last-Event-ID must give one seq per source, dot-separated");
  // A HEAD (routed here with GET) would hold subscribers for a body nobody reads: it
  // follows nothing, but answers as its GET would when there is nothing to follow.
  if (c.req.method === "HEAD") {
    if (!isFeed) {
      const outcomes = await Promise.all([...positions].map(([source, since]) => jobOutcome(c, source, since, resuming)));
      if (outcomes.includes("full") && !outcomes.includes("subscribed")) throw tooBusy();
      if (outcomes.every((outcome) => outcome === "ended" || outcome === "gone")) return nothingToFollow(outcomes, resuming);
    }
    return new Response(null, { headers: SSE_HEADERS });
  }
  const live = new Set(sources);
  /** Each source's latest mark not yet answered. */
  const marks = new Map<string, string>();
  let streaming = true;
  const answer = () => {
    for (const [source, token] of marks) hub.ack(source, token);
    marks.clear();
  };
  const finish = () => {
    if (!streaming) return;
    streaming = false;
    stopTimer();
    hub.close();
    paced.close();
  };
  const paced = new PacedBody({ room: answer, cancel: finish }, streamFormat("sse").heartbeat);
  // A feed's shard that cannot be followed as the response begins (too many subscribers,
  // its object unreachable) is the answer, 429 or 503, which a client backs off from. A
  // 200 that ended at once counted as connected: our client came back within half a
  // second, for as long as the shard refused (a 21st dashboard tab of one owner: for good).
  // So too a /live response none of whose jobs could be followed because they were full (an
  // EventSource was back every 2 s for as long); a job gone or unreachable is said in its
  // error frame (see nothingToFollow; an EventSource retries an unreachable one by itself).
  let refusal: ApiError | null = null;
  const refused = (code: string, message: string) => {
    if (!isFeed && code !== "too_many_subscribers") return;
    refusal ??= code === "too_many_subscribers" ? tooBusy(message) : new ApiError(503, code, message, undefined, { "Retry-After": "1" });
  };
  const ended = (source: string, frame: MuxServerFrame | null) => {
    if (frame) paced.write(`data: ${JSON.stringify(frame)}\n\n`);
    live.delete(source);
    // A source cut mid-stream (frame null: its object restarted), or a feed's shard that
    // ended or was refused: the response ends, and the client comes back with every
    // source's position (Last-Event-ID), rather than follow the others only. See muxSocket.
    if (frame === null || isFeed || live.size === 0) finish();
  };
  // A frame, or a batch written at once (as the single job's bridge does), its mark after it.
  const write = (source: string, frames: string) => {
    let text = "";
    for (const frame of frames.split("\n")) {
      const parsed = JSON.parse(frame) as { type: string; token?: string; event?: { seq: number } };
      if (parsed.type === "mark") {
        paced.write(text);
        text = "";
        // What came before the mark is read once the response has room again.
        marks.set(source, parsed.token!);
        if (paced.hasRoom) answer();
        continue;
      }
      if (parsed.type === "event" && parsed.event) positions.set(source, parsed.event.seq);
      text += `${parsed.type === "event" ? `id: ${encodePositions(sources, positions)}\n` : ""}data: ${tagged(source, frame)}\n\n`;
    }
    paced.write(text);
  };
  const hub = new Hub(open, {
    frame: write,
    batch: write,
    end: (source, cause) => {
      if (cause === "lost") refused("unavailable", "A shard of your job list could not be reached just now; try again in a moment");
      ended(source, cause === "lost" ? null : { type: "end", source });
    },
    error: (source, code, message) => {
      refused(code, message);
      ended(source, { type: "error", source, error: { code, message } });
    },
  }, hubLimits(sources.length));
  // Ended when the credentials expire: an EventSource comes back, to a 401 that stops it.
  const stopTimer = runAt(endsAt, finish);
  paced.write(`retry: ${RETRY_MS}\n\n`);
  const outcomes = await Promise.all([...positions].map(([source, since]) => hub.subscribe(source, since)));
  // Only as it begins: later, the response ends and the client comes back (see `ended`).
  if (refusal && (isFeed || !outcomes.includes("subscribed"))) {
    finish();
    throw refusal;
  }
  if (!isFeed && outcomes.every((outcome) => outcome === "ended" || outcome === "gone")) {
    finish();
    return nothingToFollow(outcomes, resuming);
  }
  return new Response(paced.body, { headers: SSE_HEADERS });
}

/** No room for another subscriber: a job's (its message), or each of them (a HEAD's, which has no body to say which). */
function tooBusy(message = "None of these jobs has room for another live subscriber just now"): ApiError {
  return new ApiError(429, "too_many_subscribers", message, undefined, { "Retry-After": String(SUBSCRIBER_RETRY_AFTER_S) });
}

/**
 * Nothing left to follow. A 200 that ends at once would have an EventSource back every
 * 2 s: one reconnecting after each source ended or went gets 204, which stops it, and a
 * first request for jobs that are all gone a 410.
 */
function nothingToFollow(outcomes: string[], resuming: boolean): Response {
  if (resuming || outcomes.includes("ended")) return new Response(null, { status: 204 });
  throw noneExists();
}

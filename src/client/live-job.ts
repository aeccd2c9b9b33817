// Follows one job over SSE: a snapshot first, then events. Resumes after the last event it
// saw on every reconnect, drops any event it already has, and closes after the end.
import type { JobEvent, JobSnapshot } from "../protocol";
import { isTerminal, isTerminalEvent } from "../lib/job-state";

export type LiveStatus = "connecting" | "live" | "reconnecting" | "ended" | "gone";

export interface LiveHandlers {
  snapshot(snapshot: JobSnapshot): void;
  event(event: JobEvent): void;
  status(status: LiveStatus): void;
  /** How many are watching, when it changes. */
  presence(viewers: number): void;
}

/** SSE event names: the protocol's event types, with "job-error" for "error" (see src/live/sse.ts). */
const EVENT_NAMES = ["state", "step", "progress", "log", "result", "job-error"];
const MAX_RETRY_MS = 10_000;

export class LiveJob {
  #source: EventSource | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #done = false;

  /** `lastSeq`: the last event the page already shows; the stream starts after it. */
  constructor(
    readonly urls: { sse: string; self: string },
    private lastSeq: number,
    private readonly on: LiveHandlers,
  ) {}

  start(): void {
    this.on.status("connecting");
    this.#open();
  }

  #open(): void {
    const url = new URL(this.urls.sse, location.href);
    url.searchParams.set("since", String(this.lastSeq));
    // Later reconnects by the browser itself send Last-Event-ID, which the server prefers.
    const source = new EventSource(url);
    this.#source = source;
    source.addEventListener("open", () => {
      this.#failures = 0;
      this.on.status("live");
    });
    source.addEventListener("snapshot", (message) => this.#snapshot(parse<JobSnapshot>(message)));
    for (const name of EVENT_NAMES) source.addEventListener(name, (message) => this.#event(parse<JobEvent>(message)));
    source.addEventListener("presence", (message) => {
      const viewers = parse<{ viewers: number }>(message)?.viewers;
      if (typeof viewers === "number") this.on.presence(viewers);
    });
    source.addEventListener("error", () => {
      if (this.#done) return;
      this.on.status("reconnecting");
      // CONNECTING: the browser retries by itself after the server's `retry:`. CLOSED: it
      // gave up (an HTTP error status, e.g. while the server restarts), so we retry.
      if (source.readyState === EventSource.CLOSED) this.#retryLater();
    });
  }

  #snapshot(snapshot: JobSnapshot | null): void {
    if (!snapshot) return;
    this.on.snapshot(snapshot);
    // Ended before this connection and nothing new to send: no event will follow.
    if (isTerminal(snapshot.state) && snapshot.lastSeq <= this.lastSeq) this.#end("ended");
  }

  #event(event: JobEvent | null): void {
    if (!event || event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    this.on.event(event);
    if (isTerminalEvent(event)) this.#end("ended");
  }

  #retryLater(): void {
    this.#source?.close();
    const delay = Math.min(MAX_RETRY_MS, 1_000 * 2 ** this.#failures++);
    this.#timer = setTimeout(() => void this.#reopen(), delay);
  }

  /** Asks first: an expired job would refuse the stream forever. */
  async #reopen(): Promise<void> {
    const status = await fetch(this.urls.self, { headers: { Accept: "application/json" } }).then((r) => r.status, () => 0);
    if (status === 404 || status === 410) return this.#end("gone");
    this.#open();
  }

  #end(status: LiveStatus): void {
    this.#done = true;
    clearTimeout(this.#timer);
    this.#source?.close();
    this.on.status(status);
  }
}

function parse<T>(message: Event): T | null {
  try {
    return JSON.parse((message as MessageEvent<string>).data) as T;
  } catch {
    // A frame we cannot read is skipped; the next snapshot puts the page right.
    return null;
  }
}

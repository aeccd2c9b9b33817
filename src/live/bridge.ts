// SSE and text viewers are served by the Worker, which holds one WebSocket to the job's
// object per viewer and writes its frames to the HTTP response. The object can then
// hibernate between events while viewers wait (DESIGN.md, "Watching").
import type { JobRpc } from "../job/job-object";
import { isTerminalEvent } from "../lib/job-state";
import { safeClose } from "../lib/websocket";
import type { JobEvent, JobSnapshot, ServerFrame } from "../protocol";

/** Unread bytes a viewer may fall behind by before it is dropped. */
export const MAX_BUFFERED_BYTES = 1 << 20;
export const HEARTBEAT_MS = 15_000;

export interface StreamFormat {
  headers: Record<string, string>;
  snapshot(snapshot: JobSnapshot): string;
  event(event: JobEvent): string;
  /** Written when nothing else was for HEARTBEAT_MS, if set. */
  heartbeat?: string;
}

type FrameHandler = (frame: ServerFrame | "closed") => void;

/** A WebSocket to a job's object whose frames are queued until a handler takes them. */
export class Subscription {
  #queue: (ServerFrame | "closed")[] = [];
  #handler: FrameHandler | null = null;

  constructor(readonly socket: WebSocket) {
    socket.addEventListener("message", (message) => {
      const frame = parseFrame(message.data);
      if (frame) this.#deliver(frame);
    });
    socket.addEventListener("close", () => this.#deliver("closed"));
    socket.accept();
  }

  onFrame(handler: FrameHandler): void {
    this.#handler = handler;
    for (const frame of this.#queue.splice(0)) handler(frame);
  }

  /** The first frame of every connection is the snapshot; null if the socket closed first. */
  snapshot(): Promise<JobSnapshot | null> {
    return new Promise((resolve) => this.onFrame((frame) => resolve(frame !== "closed" && frame.type === "snapshot" ? frame.snapshot : null)));
  }

  close(code: number, reason: string): void {
    safeClose(this.socket, code, reason);
  }

  #deliver(frame: ServerFrame | "closed"): void {
    if (this.#handler) this.#handler(frame);
    else this.#queue.push(frame);
  }
}

/** Opens a subscription, or returns the object's refusal (404, 429) as a Response. */
export async function subscribe(job: JobRpc, since: number): Promise<Subscription | Response> {
  const response = await job.fetch(new Request(`https://job/subscribe?since=${since}`, { headers: { Upgrade: "websocket" } }));
  if (response.status !== 101 || !response.webSocket) return response;
  return new Subscription(response.webSocket);
}

/** Frames come from our own object, but a stream must never die on a bad one. */
export function parseFrame(data: unknown): ServerFrame | null {
  if (typeof data !== "string") return null;
  try {
    const value = JSON.parse(data) as ServerFrame | null;
    return value?.type === "snapshot" || value?.type === "event" ? value : null;
  } catch {
    return null;
  }
}

const encoder = new TextEncoder();

/**
 * The response body: the snapshot, the events, and the end after the terminal event.
 * A viewer that falls MAX_BUFFERED_BYTES behind is dropped; a viewer that goes away
 * closes its WebSocket, which removes it from the job's subscribers.
 */
export function streamBody(subscription: Subscription, snapshot: JobSnapshot, format: StreamFormat): ReadableStream<Uint8Array> {
  let heartbeat: ReturnType<typeof setTimeout> | null = null;
  let open = true;
  const stop = (code: number, reason: string) => {
    open = false;
    if (heartbeat !== null) clearTimeout(heartbeat);
    subscription.close(code, reason);
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let lastWrite = Date.now();
        const write = (text: string) => {
          if (!open) return;
          controller.enqueue(encoder.encode(text));
          lastWrite = Date.now();
          if ((controller.desiredSize ?? 0) < 0) {
            stop(1013, "viewer too slow");
            controller.error(new Error("The viewer fell too far behind and was dropped"));
          }
        };
        // One timer per viewer that looks at the last write, rather than a timer re-armed
        // on every write: the bench profiled that re-arming at ~11 % of the thread.
        const beat = (text: string) => {
          const quiet = Date.now() - lastWrite;
          if (quiet >= HEARTBEAT_MS) write(text);
          if (open) heartbeat = setTimeout(() => beat(text), HEARTBEAT_MS - (quiet >= HEARTBEAT_MS ? 0 : quiet));
        };
        const end = () => {
          if (!open) return;
          stop(1000, "done");
          controller.close();
        };
        write(format.snapshot(snapshot));
        if (format.heartbeat) heartbeat = setTimeout(() => beat(format.heartbeat!), HEARTBEAT_MS);
        subscription.onFrame((frame) => {
          if (frame === "closed") return end();
          if (frame.type !== "event") return;
          write(format.event(frame.event));
          if (isTerminalEvent(frame.event)) end();
        });
      },
      cancel() {
        stop(1000, "viewer left");
      },
    },
    { highWaterMark: MAX_BUFFERED_BYTES, size: (chunk) => chunk.byteLength },
  );
}

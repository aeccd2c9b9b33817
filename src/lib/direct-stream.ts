// A response stream the job's object writes a viewer's frames to itself (SSE or text
// while the job is busy; see "Direct streams" in fanout.ts), and what such a stream may
// still hold when it is cut, to tell where its viewer stands.

/** Names a direct stream the Worker continues after a hand-off (set by the object, read by the Worker). */
export const HAND_OFF_HEADER = "X-Hand-Off";

/** A response stream the object writes a viewer's frames to itself. */
export class DirectStream {
  controller!: ReadableStreamDefaultController<Uint8Array>;
  lastWrite = Date.now();
  /** For a stream the Worker continues: the frames it may still hold, to tell where its viewer stands if it is cut. */
  readonly held: Held | null;
  /** Where its viewer stood when the stream was cut (what it held was dropped). */
  cutAt: number | null = null;
  #settle: (() => void) | null = null;

  /** `highWater`: the most bytes the stream queues for its reader (its strategy's high-water mark). */
  constructor(readonly id: string, continued: boolean, private readonly highWater: number) {
    this.held = continued ? held(0) : null;
  }

  /**
   * What the stream's pull returns while the viewer keeps up: a stream asks again only
   * once its last pull settled, so a pull that waits until the viewer is paused (`wake`)
   * costs no call per frame (the bench measured ~40 µs per delivery for one that did not).
   */
  untilPaused(): Promise<void> {
    return new Promise((resolve) => (this.#settle = resolve));
  }

  /** Bytes queued in the stream that its reader has not taken. */
  get unreadBytes(): number {
    return this.highWater - (this.controller.desiredSize ?? this.highWater);
  }

  wake(): void {
    this.#settle?.();
    this.#settle = null;
  }
}

/**
 * The frames a direct stream may still hold, as [seq, bytes] pairs from `start`, their
 * bytes in all, and `base`: the seq of the last frame before them, which its viewer has
 * read. Kept only for continued streams, and only as far back as the stream's backlog
 * (at most CREDIT bytes), however long a replay goes on.
 */
export interface Held {
  base: number;
  frames: number[];
  start: number;
  bytes: number;
}

export function held(base: number): Held {
  return { base, frames: [], start: 0, bytes: 0 };
}

/** Records a frame going into a stream that holds `unreadBytes`: frames before those are read, and go. */
export function hold(held: Held, unreadBytes: number, seq: number, bytes: number): void {
  const { frames } = held;
  while (held.bytes > unreadBytes && held.start < frames.length) {
    held.base = frames[held.start]!;
    held.bytes -= frames[held.start + 1]!;
    held.start += 2;
  }
  // Drop the read pairs from the array now and then, not on every frame.
  if (held.start > 1024 && held.start * 2 > frames.length) {
    frames.splice(0, held.start);
    held.start = 0;
  }
  frames.push(seq, bytes);
  held.bytes += bytes;
}

/** The seq of the last frame a viewer read wholly, when the stream still holds `unreadBytes` (streams hand out whole chunks). */
export function lastRead(held: Held, unreadBytes: number): number {
  let unread = unreadBytes;
  let i = held.frames.length - 2;
  while (unread > 0 && i >= held.start) {
    unread -= held.frames[i + 1]!;
    i -= 2;
  }
  return i >= held.start ? held.frames[i]! : held.base;
}

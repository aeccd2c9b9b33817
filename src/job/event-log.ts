// Appends events to the job's log and hands each one to the subscribers. Progress is
// coalesced (latest wins inside a window); past the per-job cap, log and progress
// events are no longer stored, while state, step and terminal events always are.
import type { EventData, EventType, JobEvent, Progress } from "../protocol";
import type { JobStore } from "./storage";

const DROPPABLE: ReadonlySet<EventType> = new Set(["log", "progress"]);

export class EventLog {
  #pendingProgress: Progress | null = null;
  #lastProgressAt = -Infinity;
  #flushTimer: ReturnType<typeof setTimeout> | null = null;
  #capAnnounced = false;

  constructor(
    private readonly store: JobStore,
    private readonly options: { maxEvents: number; progressWindowMs: number },
    private readonly broadcast: (event: JobEvent) => void,
  ) {}

  append<T extends EventType>(type: T, data: EventData[T]): JobEvent | null {
    if (DROPPABLE.has(type) && this.#overCap()) return null;
    const event = this.store.appendEvent(type, data, Date.now());
    this.broadcast(event);
    return event;
  }

  progress(update: Progress): void {
    this.#pendingProgress = update;
    const wait = this.#lastProgressAt + this.options.progressWindowMs - Date.now();
    if (wait <= 0) this.flushProgress();
    else this.#flushTimer ??= setTimeout(() => this.flushProgress(), wait);
  }

  /** Publishes a held-back progress update now. */
  flushProgress(): void {
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    const update = this.#pendingProgress;
    if (update === null) return;
    this.#pendingProgress = null;
    this.#lastProgressAt = Date.now();
    // The snapshot shows the latest progress even when the log is over its cap.
    this.store.updateJob({ progress: JSON.stringify(update) });
    this.append("progress", update);
  }

  /** Drops held-back progress, e.g. once the job has ended. */
  discardProgress(): void {
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    this.#pendingProgress = null;
  }

  #overCap(): boolean {
    const { maxEvents } = this.options;
    if (this.store.lastSeq() < maxEvents) return false;
    // The first dropped event is replaced by one warning, stored past the cap; it is
    // the only log event that can sit there, which tells a restarted object it was sent.
    this.#capAnnounced ||= this.store.hasLogAfter(maxEvents);
    if (!this.#capAnnounced) {
      this.#capAnnounced = true;
      const message = `Event log cap of ${maxEvents} reached: further log and progress events are not stored`;
      this.broadcast(this.store.appendEvent("log", { level: "warn", message }, Date.now()));
    }
    return true;
  }
}

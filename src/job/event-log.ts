// The job's log, written in batches: events and step records wait in memory and go to
// storage together as one row, then to the subscribers. A batch is written when the
// engine needs it durable (a step attempt is about to start: the previous step's record
// and events ride along), when the job's slice ends, or when it grows past
// MAX_BATCH_CHARS (never between a step's record and what `run` logs after it, up to
// MAX_HELD_CHARS: see #full). While a step's body runs, what it logs is written at the
// end of the turn, but at most once per `windowMs`: a lone line goes out at once, a
// flood goes out in batches, one row per window. A body that ends in the turn it logged
// (no I/O between) leaves its lines to ride with its result. Progress is coalesced: an
// update replaces the one still waiting, and one is written at most once per window.
//
// Budgets: an event past the job's `events` budget, or a write past its `bytes` budget,
// is refused and reported through `onLimit`, which ends the job. The events that end a
// job are `forced` past both, so its end is always recorded.
import type { Budget, BudgetLimit, EventData, EventType, JobEvent, Progress } from "../protocol";
import type { JobStore, StepRecord, StoredStep } from "./storage";

/** A batch is written once its JSON reaches about this many characters. */
export const MAX_BATCH_CHARS = 64 * 1024;
/**
 * Outside a step's body, a batch holding a step's record grows to this many characters of
 * events (besides the one step result a row holds, at most 1 MiB) before it is cut: what
 * `run` logs after a step rides in that step's row (see #full). A row stays under the
 * platform's 2 MB even when every character takes 3 bytes.
 */
export const MAX_HELD_CHARS = 4 * MAX_BATCH_CHARS;

type Pending = { type: EventType; data: unknown; at: number };

export interface EventLogOptions {
  windowMs: number;
  budget: Budget;
}

export class EventLog {
  #events: Pending[] = [];
  #steps: StepRecord[] = [];
  #result: string | null = null;
  /** The step whose result waits in the batch. */
  #resultStep: string | null = null;
  /** Every step's latest record: read from storage once, then kept current. */
  #stepMap: Map<string, StoredStep> | null = null;
  #chars = 0;
  #progressWrittenAt = -Infinity;
  #writtenAt = -Infinity;
  /** Step bodies running now; only then does a timer write what waits. */
  #bodies = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #bytesStored: number | null = null;
  #refused = false;

  constructor(
    private readonly store: JobStore,
    private readonly options: EventLogOptions,
    /** Gets each written batch's events, in order. */
    private readonly publish: (events: JobEvent[]) => void,
    /** Told once, when the job runs out of a budget. */
    private readonly onLimit: (limit: BudgetLimit) => void,
  ) {}

  /** Queues an event; false when it was refused by the budget. */
  append<T extends Exclude<EventType, "step">>(type: T, data: EventData[T], force = false): boolean {
    const chars = eventChars(data);
    if (this.#full(chars)) this.flush();
    if (!force && !this.#hasRoom(1)) return this.#refuse("events");
    if (type === "progress") this.#events = this.#events.filter((event) => event.type !== "progress");
    this.#add(type, data, Date.now(), chars);
    return true;
  }

  /** Latest wins: an earlier update still waiting in the batch is replaced. */
  progress(update: Progress): void {
    this.append("progress", update);
  }

  /**
   * A step's new record and the event that tells it, with its result if it succeeded with
   * one. A row holds one result, so a second one starts a new batch.
   */
  saveStep(record: StepRecord, event: EventData["step"], result: string | null = null, force = false): boolean {
    const chars = eventChars(event);
    const recordChars = JSON.stringify(record).length;
    if (this.#full(chars + recordChars) || (result !== null && this.#result !== null)) this.flush();
    if (!force && !this.#hasRoom(1)) return this.#refuse("events");
    if (!force && result !== null && this.#bytes() + this.#chars + result.length > this.options.budget.bytes) return this.#refuse("bytes");
    this.#add("step", event, Date.now(), chars);
    this.#steps.push(result !== null ? { ...record, hasResult: true } : record);
    this.steps().set(record.name, { ...record, resultRow: null });
    if (result !== null) {
      this.#result = result;
      this.#resultStep = record.name;
    }
    this.#grow(recordChars + (result?.length ?? 0));
    return true;
  }

  /** The log of a job just made: there is nothing stored to read back. */
  startEmpty(): void {
    this.#stepMap = new Map();
    this.#bytesStored = 0;
  }

  /** Every step's latest record by name, in position order. */
  steps(): Map<string, StoredStep> {
    this.#stepMap ??= this.store.steps();
    return this.#stepMap;
  }

  /**
   * Whether the batch must be written before more goes in. Not between a step's record and
   * what `run` logs after it, outside any step's body: replay leaves those calls out (they
   * were published with the step), so a row cut there, then a crash, would lose them for good.
   */
  #full(incoming: number): boolean {
    if (this.#chars < MAX_BATCH_CHARS) return false;
    if (this.#bodies > 0 || this.#steps.length === 0) return true;
    // What `run` logs is small; the job's own end (a result of up to 1 MiB) may start a row.
    return this.#chars - (this.#result?.length ?? 0) + incoming >= MAX_HELD_CHARS;
  }

  /** Whether `count` more events fit the budget. */
  #hasRoom(count: number): boolean {
    return this.store.lastSeq() + this.#events.length + count <= this.options.budget.events;
  }

  #add(type: EventType, data: unknown, at = Date.now(), chars = eventChars(data)): void {
    this.#events.push({ type, data, at });
    this.#grow(chars);
  }

  /**
   * Writes what is waiting as one row and publishes its events. A progress update less
   * than `windowMs` after the last one written stays behind for a later batch, unless
   * `all` (the slice is ending) says otherwise.
   */
  flush({ all = true }: { all?: boolean } = {}): void {
    const now = Date.now();
    const held = !all && now - this.#progressWrittenAt < this.options.windowMs ? this.#events.find((e) => e.type === "progress") : undefined;
    const writing = held ? this.#events.filter((event) => event !== held) : this.#events;
    if (writing.length === 0) return;
    let seq = this.store.lastSeq();
    const events = writing.map(({ type, data, at }) => ({ seq: ++seq, at, type, data }) as JobEvent);
    const progress = events.findLast((event) => event.type === "progress")?.data as Progress | undefined;
    if (progress) this.#progressWrittenAt = now;
    const bytesBefore = this.#bytes();
    this.store.appendBatch({ events, steps: this.#steps, result: this.#result, progress: progress ?? null });
    this.#bytesStored = bytesBefore + this.#chars;
    const resultStep = this.#resultStep === null ? undefined : this.steps().get(this.#resultStep);
    if (resultStep) resultStep.resultRow = seq;
    this.#clear();
    if (held) this.#add(held.type, held.data, held.at);
    this.publish(events);
    if (this.#bytesStored > this.options.budget.bytes) this.#refuse("bytes");
  }

  /** Drops what is waiting and what was read: the job was erased. */
  discard(): void {
    this.#clear();
    this.#stepMap = null;
    this.#bytesStored = null;
    this.#refused = false;
  }

  #clear(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#events = [];
    this.#steps = [];
    this.#result = null;
    this.#resultStep = null;
    this.#chars = 0;
  }

  /** A step's body starts or ends running: between bodies the next step's start writes what waits. */
  bodyStarted(): void {
    this.#bodies++;
    if (this.#events.length) this.#schedule();
  }

  bodyEnded(): void {
    this.#bodies--;
    if (this.#bodies === 0 && this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #grow(chars: number): void {
    this.#chars += chars;
    if (this.#bodies > 0) this.#schedule();
  }

  /**
   * At the end of this turn, or a window after the body's last write if that is later.
   * Only a body's writes start a window: the one that starts a step does not hold back
   * the step's first line.
   */
  #schedule(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      this.#writtenAt = Date.now();
      this.flush();
    }, Math.max(0, this.#writtenAt + this.options.windowMs - Date.now()));
  }

  #bytes(): number {
    this.#bytesStored ??= this.store.bytesStored();
    return this.#bytesStored;
  }

  #refuse(limit: BudgetLimit): false {
    if (!this.#refused) {
      this.#refused = true;
      this.onLimit(limit);
    }
    return false;
  }
}

/** About what an event takes in its row: its data's JSON and the envelope (seq, at, type). */
function eventChars(data: unknown): number {
  return JSON.stringify(data).length + 48;
}

// The step engine: one alarm runs one slice. It replays the job's `run` from the top;
// finished steps return their stored result, the next unfinished step runs, and the
// slice ends when `run` settles, a sleep or retry backoff is due, the time budget is
// spent, the deadline passes or the job is canceled.
//
// A step that has to wait rejects with SliceEnded, which unwinds `run` (its finally
// blocks run). Job code that catches it gains nothing: the slice's outcome is already
// fixed, and every later step call rejects the same way.
import type { JobDefinition, RunContext, Step, StepAttempt, StepFn, StepOptions } from "../jobs/define";
import { NonRetryableError, STEP_DEFAULTS } from "../jobs/define";
import { toMs, type Duration } from "../lib/duration";
import type { JobErrorInfo, Json, LogLevel, Progress } from "../protocol";
import type { EventLog } from "./event-log";
import { retryDelay } from "./retry";
import type { JobRow, JobStore, StepRow } from "./storage";

export type SliceOutcome =
  | { kind: "suspended"; until: number }
  | { kind: "succeeded"; result: Json }
  | { kind: "failed"; error: JobErrorInfo }
  | { kind: "halted" };

export interface SliceInput {
  job: JobRow;
  definition: JobDefinition;
  store: JobStore;
  events: EventLog;
  /** Aborted by cancel. */
  signal: AbortSignal;
  budgetMs: number;
}

/** A step failed for good; thrown into `run`, where it fails the job unless caught. */
export class StepFailedError extends Error {
  override name = "StepFailedError";
  constructor(readonly step: string, message: string) {
    super(message);
  }
}

class StepTimeoutError extends Error {
  override name = "StepTimeoutError";
}

/** Unwinds `run` once the slice is over. Not an error of the job: never recorded. */
export class SliceEnded extends Error {
  override name = "SliceEnded";
  constructor() {
    super("This slice of the job is over; the job resumes on its next alarm");
  }
}

const ended = () => Promise.reject(new SliceEnded());

/** Step and job results are stored as one SQLite value each; bigger data belongs in R2 or KV. */
export const MAX_RESULT_CHARS = 1 << 20;
const TOO_LARGE = `larger than ${MAX_RESULT_CHARS} characters of JSON; store big data elsewhere (R2, KV) and return a reference`;

/** Longer log lines are cut: one line must not fill the log's storage. */
export const MAX_LOG_CHARS = 8_192;

/** Lets queued requests (status reads, cancel) into the object between steps. */
const yieldToOtherRequests = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function runSlice(input: SliceInput): Promise<SliceOutcome> {
  const replay = new Replay(input);
  const jobInput = JSON.parse(input.job.input) as Json;
  const context: RunContext<unknown> = {
    jobId: input.job.id,
    input: jobInput,
    step: replay,
    progress: (update) => replay.progress(update),
    log: (level, message) => replay.log(level, message),
    signal: input.signal,
  };
  const finished = input.definition.run(context).then(
    (value) => replay.finish(succeeded(value)),
    (error: unknown) => replay.finish(failed(error)),
  );
  const outcome = await Promise.race([finished, replay.stopped]);
  replay.stop(outcome);
  return outcome;
}

export function timedOut(): SliceOutcome {
  return { kind: "failed", error: { code: "timeout", message: "The job ran past its deadline" } };
}

function succeeded(value: unknown): SliceOutcome {
  const text = value === undefined ? "null" : JSON.stringify(value);
  if (text === undefined) return { kind: "failed", error: { code: "invalid_result", message: "The job returned a value that is not JSON" } };
  if (text.length > MAX_RESULT_CHARS) return { kind: "failed", error: { code: "invalid_result", message: `The job's result is ${TOO_LARGE}` } };
  return { kind: "succeeded", result: JSON.parse(text) as Json };
}

function failed(error: unknown): SliceOutcome {
  if (error instanceof StepFailedError) {
    return { kind: "failed", error: { code: "step_failed", message: error.message, step: error.step } };
  }
  const { name, message } = describe(error);
  return { kind: "failed", error: { code: "run_failed", message, name } };
}

function describe(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message || error.name };
  return { name: "Error", message: String(error) };
}

class Replay implements Step {
  /** Settles once the slice must end early: suspension, deadline or cancel. */
  readonly stopped: Promise<SliceOutcome>;
  #stop!: (outcome: SliceOutcome) => void;
  #outcome: SliceOutcome | null = null;
  readonly #steps: Map<string, StepRow>;
  readonly #seen = new Set<string>();
  readonly #sliceStart = Date.now();
  /**
   * True while `run` walks through steps finished before this slice: logs and progress
   * from that stretch were published then. The first slice has nothing to replay.
   */
  #replaying: boolean;

  constructor(private readonly input: SliceInput) {
    this.#steps = input.store.steps();
    this.#replaying = this.#steps.size > 0;
    this.stopped = new Promise((resolve) => (this.#stop = resolve));
    // A canceled slice ends at once, even while a step is still in flight.
    input.signal.addEventListener("abort", () => this.stop({ kind: "halted" }));
  }

  finish(outcome: SliceOutcome): SliceOutcome {
    return this.#outcome ?? outcome;
  }

  stop(outcome: SliceOutcome): void {
    this.#outcome ??= outcome;
    this.#stop(outcome);
  }

  get #done(): boolean {
    return this.#outcome !== null || this.input.signal.aborted;
  }

  log(level: LogLevel, message: string): void {
    if (this.#replaying || this.#done) return;
    const text = String(message);
    this.input.events.append("log", { level, message: text.length > MAX_LOG_CHARS ? `${text.slice(0, MAX_LOG_CHARS)}…` : text });
  }

  progress(update: Progress): void {
    if (!this.#replaying && !this.#done) this.input.events.progress(update);
  }

  do<T>(name: string, optionsOrFn: StepOptions | StepFn<T>, maybeFn?: StepFn<T>): Promise<T> {
    const [options, fn] = typeof optionsOrFn === "function" ? [{}, optionsOrFn] : [optionsOrFn, maybeFn!];
    return this.#step(name, async (row) => {
      if (row?.state === "succeeded") return (row.result === null ? undefined : JSON.parse(row.result)) as T;
      if (row?.state === "failed") throw new StepFailedError(name, row.error ?? "failed");
      if (row?.state === "waiting" && row.until !== null && row.until > Date.now()) return this.#suspend(row.until);
      return this.#attempt(name, row, options, fn);
    });
  }

  sleep(name: string, duration: Duration): Promise<void> {
    return this.#sleep(name, () => Date.now() + toMs(duration));
  }

  sleepUntil(name: string, when: Date | number): Promise<void> {
    return this.#sleep(name, () => (typeof when === "number" ? when : when.getTime()));
  }

  #sleep(name: string, wakeAt: () => number): Promise<void> {
    return this.#step(name, async (row) => {
      if (row?.state === "succeeded") return;
      const now = Date.now();
      if (!row) {
        const until = wakeAt();
        if (!Number.isFinite(until)) throw new TypeError(`step.sleep("${name}"): not a valid time`);
        this.#save({ ...this.#newRow(name), state: "sleeping", started_at: now, until });
        this.input.events.append("step", { name, status: "sleeping", attempt: 0, until });
        return this.#suspend(until);
      }
      if (row.until !== null && row.until > now) return this.#suspend(row.until);
      this.#save({ ...row, state: "succeeded", finished_at: now });
      this.input.events.append("step", { name, status: "woke", attempt: 0 });
    });
  }

  /** Shared by every step kind: unique names, cancel/deadline/budget checks, replay mode. */
  async #step<T>(name: string, body: (row: StepRow | undefined) => Promise<T>): Promise<T> {
    if (this.#seen.has(name)) throw new NonRetryableError(`Step name "${name}" is used twice in one run`);
    this.#seen.add(name);
    const row = this.#steps.get(name);
    if (row?.state !== "succeeded") {
      await this.#checkpoint();
      this.#replaying = false;
    }
    return body(this.#steps.get(name));
  }

  async #checkpoint(): Promise<void> {
    await yieldToOtherRequests();
    if (this.#done) return ended();
    if (Date.now() >= this.input.job.deadline_at) return this.#timeOut();
    if (Date.now() - this.#sliceStart >= this.input.budgetMs) return this.#suspend(Date.now());
  }

  async #attempt<T>(name: string, row: StepRow | undefined, options: StepOptions, fn: StepFn<T>): Promise<T> {
    const retries = { ...STEP_DEFAULTS.retries, ...options.retries };
    const attempt = (row?.attempts ?? 0) + 1;
    if (row?.state === "running" && attempt > retries.limit + 1) {
      return this.#fail(name, row.attempts, "The step was interrupted (crash or eviction) and has no retries left");
    }
    // Recorded and made durable before the work runs, so a crash mid-step re-runs it as
    // the next attempt and a finished step never runs again.
    const base: StepRow = { ...(row ?? this.#newRow(name)), state: "running", attempts: attempt, started_at: Date.now(), until: null };
    this.#save(base);
    this.input.events.append("step", { name, status: "started", attempt });
    await this.input.store.sync();
    let value: T;
    try {
      value = await this.#withTimeout(fn, attempt, toMs(options.timeout ?? STEP_DEFAULTS.timeout));
    } catch (error) {
      if (this.#done) return ended();
      if (Date.now() >= this.input.job.deadline_at) return this.#timeOut();
      const { message } = describe(error);
      if (error instanceof NonRetryableError || attempt > retries.limit) return this.#fail(name, attempt, message);
      const until = Date.now() + retryDelay(toMs(retries.delay), retries.backoff, attempt);
      this.#save({ ...base, state: "waiting", error: message, until });
      this.input.events.append("step", { name, status: "retrying", attempt, until, error: message });
      return this.#suspend(until);
    }
    if (this.#done) return ended();
    const text = value === undefined ? null : JSON.stringify(value);
    if (text === undefined) return this.#fail(name, attempt, "The step returned a value that is not JSON");
    if (text !== null && text.length > MAX_RESULT_CHARS) return this.#fail(name, attempt, `The step's result is ${TOO_LARGE}`);
    this.#save({ ...base, state: "succeeded", result: text, error: null, finished_at: Date.now() });
    this.input.events.append("step", { name, status: "succeeded", attempt });
    return (text === null ? undefined : JSON.parse(text)) as T;
  }

  async #withTimeout<T>(fn: StepFn<T>, attempt: number, timeoutMs: number): Promise<T> {
    const limitMs = Math.min(timeoutMs, this.input.job.deadline_at - Date.now());
    const controller = new AbortController();
    const onCancel = () => controller.abort(this.input.signal.reason);
    this.input.signal.addEventListener("abort", onCancel);
    let rejectTimeout!: (error: Error) => void;
    const timeout = new Promise<never>((_, reject) => (rejectTimeout = reject));
    const timer = setTimeout(() => {
      const error = new StepTimeoutError(`The step timed out after ${limitMs} ms`);
      controller.abort(error);
      rejectTimeout(error);
    }, Math.max(0, limitMs));
    const stepAttempt: StepAttempt = { attempt, signal: controller.signal };
    try {
      return await Promise.race([Promise.resolve().then(() => fn(stepAttempt)), timeout]);
    } finally {
      clearTimeout(timer);
      this.input.signal.removeEventListener("abort", onCancel);
    }
  }

  #fail(name: string, attempt: number, message: string): never {
    const row = this.#steps.get(name) ?? this.#newRow(name);
    this.#save({ ...row, state: "failed", attempts: attempt, error: message, finished_at: Date.now(), until: null });
    this.input.events.append("step", { name, status: "failed", attempt, error: message });
    throw new StepFailedError(name, `Step "${name}" failed: ${message}`);
  }

  #newRow(name: string): StepRow {
    return {
      name, position: this.#steps.size, state: "running", attempts: 0,
      result: null, error: null, started_at: null, finished_at: null, until: null,
    };
  }

  #save(row: StepRow): void {
    this.#steps.set(row.name, row);
    this.input.store.saveStep(row);
  }

  #suspend(until: number): Promise<never> {
    this.stop({ kind: "suspended", until });
    return ended();
  }

  #timeOut(): Promise<never> {
    this.stop(timedOut());
    return ended();
  }
}

// The step engine: one slice of a job's run. It replays the job's `run` from the top;
// finished steps return their stored result, the next unfinished step runs, and the
// slice ends (one `end`, which keeps the first outcome) when `run` settles, a sleep or a
// retry is due later, the time budget is spent, the deadline passes, a budget runs out
// or the job is canceled. A sleep or retry that is already due continues in this slice.
//
// Once the slice has ended, every step call rejects with SliceEnded, which unwinds `run`
// (its finally blocks run). Job code that catches it gains nothing: the outcome is fixed.
import type { AnyJobDefinition, RunContext, Step, StepFn, StepOptions } from "../jobs/define";
import { NonRetryableError, STEP_DEFAULTS } from "../jobs/define";
import { toMs, type Duration } from "../lib/duration";
import { clip } from "../lib/clip";
import type { BudgetLimit, EventData, JobErrorInfo, Json, Progress } from "../protocol";
import type { EventLog } from "./event-log";
import { decideRetry, mayResumeInterrupted } from "./retry";
import type { JobRow, JobStore, StepRecord, StoredStep } from "./storage";

export type SliceOutcome =
  /** Resume at `until` (now, when the slice only yielded its time budget). */
  | { kind: "suspended"; until: number }
  | { kind: "succeeded"; result: Json }
  | { kind: "failed"; error: JobErrorInfo }
  /** Cancel or delete stopped it; whoever did has recorded the end. */
  | { kind: "stopped" };

export interface SliceInput {
  job: JobRow;
  definition: AnyJobDefinition;
  store: JobStore;
  events: EventLog;
  /** Aborted by cancel and delete. */
  signal: AbortSignal;
  budgetMs: number;
  maxSteps: number;
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

/** Unwinds `run` once the slice has ended. Not an error of the job: never recorded. */
export class SliceEnded extends Error {
  override name = "SliceEnded";
  constructor() {
    super("This slice of the job has ended; the job resumes on its next alarm");
  }
}

const ended = () => Promise.reject(new SliceEnded());

/** Step and job results are stored as one SQLite value each; bigger data belongs in R2 or KV. */
export const MAX_RESULT_BYTES = 1 << 20;
/** Longer log lines are cut: one line must not fill the log. */
export const MAX_LOG_CHARS = 8_192;
/** Progress messages and error messages are cut to this length. */
export const MAX_MESSAGE_CHARS = 1_024;
export const MAX_STEP_NAME_CHARS = 200;

const isThenable = <T>(value: T | PromiseLike<T>): value is PromiseLike<T> =>
  (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as { then?: unknown }).then === "function";

/** Lets queued requests (status reads, cancel) into the object between steps. */
const yieldToOtherRequests = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
/**
 * Between steps the engine yields once this much time has passed since it last did: a
 * yield costs a timer turn (about a millisecond), too much to pay after every short step.
 * (On Cloudflare the clock moves only across I/O, which every step attempt does.)
 */
const YIELD_EVERY_MS = 5;

/** A slice under way: its outcome, and `end` for whoever must end it early (a budget ran out). */
export interface RunningSlice {
  outcome: Promise<SliceOutcome>;
  end(outcome: SliceOutcome): void;
}

export function startSlice(input: SliceInput): RunningSlice {
  const slice = new Slice(input);
  return { outcome: slice.run(), end: (outcome) => slice.end(outcome) };
}

/** The job's deadline has passed, or a sleep or retry (`step`) would end after it. */
export function timedOut(step?: { name: string; message: string }): SliceOutcome {
  if (!step) return { kind: "failed", error: { code: "timeout", message: "The job ran past its deadline" } };
  return { kind: "failed", error: { code: "timeout", message: step.message, step: step.name } };
}

export function limitExceeded(limit: BudgetLimit, budget: number): SliceOutcome {
  return { kind: "failed", error: { code: "limit_exceeded", limit, message: `The job exceeded its ${limit} budget (${budget})` } };
}

/**
 * Out of steps. A run that did not reach `unreached` of the steps recorded before it made new
 * ones in their place: its step names differ from one replay to the next (made from
 * Date.now() or Math.random()), or a deploy renamed them. The budget alone would read as a
 * run that needed more steps; a job that did, reached every one (`unreached` is 0).
 */
export function stepsExceeded(budget: number, unreached: number): SliceOutcome {
  const outcome = limitExceeded("steps", budget);
  if (unreached === 0 || outcome.kind !== "failed") return outcome;
  const why = `${unreached} steps recorded before this run were not reached by it, which made new ones instead: step names must be the same on every replay (none made from Date.now() or Math.random())`;
  return { kind: "failed", error: { ...outcome.error, message: `${outcome.error.message}; ${why}` } };
}

/** JSON text of a value, or why it cannot be stored. */
export function toStoredJson(value: unknown): { text: string | null } | { problem: string } {
  if (value === undefined) return { text: null };
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    // A bigint, a cycle, a toJSON that throws: the step or job fails saying so, as for any value that is not JSON.
    return { problem: `is not JSON (${describe(error).message})` };
  }
  if (text === undefined) return { problem: "is not JSON" };
  // Only long texts can be over the limit in bytes; count those exactly.
  if (text.length * 3 > MAX_RESULT_BYTES && new TextEncoder().encode(text).length > MAX_RESULT_BYTES) {
    return { problem: `is larger than ${MAX_RESULT_BYTES} bytes of JSON; store big data elsewhere (R2, KV) and return a reference` };
  }
  return { text };
}

function succeeded(value: unknown): SliceOutcome {
  const stored = toStoredJson(value);
  if ("problem" in stored) return { kind: "failed", error: { code: "invalid_result", message: `The job's result ${stored.problem}` } };
  return { kind: "succeeded", result: stored.text === null ? null : (JSON.parse(stored.text) as Json) };
}

function failed(error: unknown): SliceOutcome {
  if (error instanceof StepFailedError) {
    return { kind: "failed", error: { code: "step_failed", message: error.message, step: error.step } };
  }
  const { name, message } = describe(error);
  return { kind: "failed", error: { code: "run_failed", message, name } };
}

function describe(error: unknown): { name: string; message: string } {
  const described = error instanceof Error ? { name: error.name, message: error.message || error.name } : { name: "Error", message: String(error) };
  return { name: clip(described.name, 100), message: clip(described.message, MAX_MESSAGE_CHARS) };
}

/** Numbers that are finite, a message that is bounded: progress as it may be stored. */
function cleanProgress(update: Progress): Progress {
  const clean: Progress = {};
  for (const key of ["ratio", "current", "total"] as const) {
    const value = update?.[key];
    if (typeof value === "number" && Number.isFinite(value)) clean[key] = value;
  }
  if (typeof update?.message === "string") clean.message = clip(update.message, MAX_MESSAGE_CHARS);
  return clean;
}

class Slice implements Step {
  #outcome: SliceOutcome | null = null;
  #settle!: (outcome: SliceOutcome) => void;
  readonly #ended = new Promise<SliceOutcome>((resolve) => (this.#settle = resolve));
  readonly #seen = new Set<string>();
  readonly #start = Date.now();
  /** The alarm that started the slice came through the event loop: the first yield is due a while later. */
  #yieldedAt = this.#start;
  /**
   * True while `run` walks through steps finished before this slice: logs and progress
   * from that stretch were published then. The first slice has nothing to replay.
   */
  #replaying: boolean;

  constructor(private readonly input: SliceInput) {
    this.#replaying = input.events.steps().size > 0;
  }

  run(): Promise<SliceOutcome> {
    const { input } = this;
    // Cancel and delete end the slice at once, even while a step is in flight.
    input.signal.addEventListener("abort", () => this.end({ kind: "stopped" }));
    const context: RunContext<unknown> = {
      jobId: input.job.id,
      input: JSON.parse(input.job.input) as Json,
      step: this,
      progress: (update) => {
        if (this.#live) input.events.progress(cleanProgress(update));
      },
      log: (level, message) => {
        if (this.#live) input.events.append("log", { level, message: clip(String(message), MAX_LOG_CHARS) });
      },
      signal: input.signal,
    };
    // Inside a promise: a `run` that is not an async function may throw before it returns
    // one (new code reading an old job's input, say). Thrown out of the alarm, that error
    // was retried by the watchdog, slice after slice, until the deadline.
    new Promise((resolve) => resolve(input.definition.run(context))).then((value) => this.end(succeeded(value)), (error: unknown) => this.end(failed(error)));
    return this.#ended;
  }

  /** The one place a slice ends; the first outcome wins. */
  end(outcome: SliceOutcome): void {
    if (this.#outcome) return;
    this.#outcome = outcome;
    this.#settle(outcome);
  }

  get #over(): boolean {
    return this.#outcome !== null || this.input.signal.aborted;
  }

  /** Logs and progress are published: not replaying, and the slice still on. */
  get #live(): boolean {
    return !this.#replaying && !this.#over;
  }

  do<T>(name: string, optionsOrFn: StepOptions | StepFn<T>, maybeFn?: StepFn<T>): Promise<T> {
    const [options, fn] = typeof optionsOrFn === "function" ? [{}, optionsOrFn] : [optionsOrFn, maybeFn!];
    return this.#step(name, async (record) => {
      if (record?.state === "succeeded") return this.#storedResult<T>(record);
      if (record?.state === "failed" || record?.state === "canceled") throw new StepFailedError(name, record.error ?? "failed");
      if (record?.state === "waiting" && record.until !== null && record.until > Date.now()) return this.#suspend(record.until);
      return this.#attempts(name, record, options, fn);
    });
  }

  sleep(name: string, duration: Duration): Promise<void> {
    return this.#sleep(name, (now) => now + toMs(duration));
  }

  sleepUntil(name: string, when: Date | number): Promise<void> {
    return this.#sleep(name, () => (typeof when === "number" ? when : when.getTime()));
  }

  /** `wakeAt` counts from the `now` the sleep is judged by: a zero-length sleep is due at once, whatever the clock did meanwhile. */
  #sleep(name: string, wakeAt: (now: number) => number): Promise<void> {
    return this.#step(name, async (record) => {
      if (record?.state === "succeeded") return;
      const now = Date.now();
      let sleeping: StepRecord | undefined = record;
      if (!sleeping) {
        const until = wakeAt(now);
        if (!Number.isFinite(until)) throw new NonRetryableError(`step.sleep("${name}"): not a valid time`);
        sleeping = { ...this.#newRecord(name), state: "sleeping", startedAt: now, until };
        if (!this.#save(sleeping, { name, status: "sleeping", attempt: 0, until })) return ended();
        // It could only end in a timeout: the job ends now, as a retry past the deadline does.
        if (until >= this.input.job.deadline_at) return this.#timeOut({ name, message: `The sleep "${name}" would end after the job's deadline` });
      }
      if (sleeping.until !== null && sleeping.until > now) return this.#suspend(sleeping.until);
      if (!this.#save({ ...sleeping, state: "succeeded", finishedAt: now, until: null }, { name, status: "woke", attempt: 0 })) return ended();
    });
  }

  /** Shared by every step kind: names, the steps budget, replay mode, and the checks between steps. */
  async #step<T>(name: string, body: (record: StoredStep | undefined) => Promise<T>): Promise<T> {
    if (this.#over) return ended();
    if (typeof name !== "string" || name.length === 0 || name.length > MAX_STEP_NAME_CHARS) {
      throw new NonRetryableError(`A step name must be 1 to ${MAX_STEP_NAME_CHARS} characters`);
    }
    if (this.#seen.has(name)) throw new NonRetryableError(`Step name "${name}" is used twice in one run`);
    this.#seen.add(name);
    const steps = this.input.events.steps();
    const record = steps.get(name);
    if (record?.state !== "succeeded") {
      if (!record && steps.size >= this.input.maxSteps) {
        let unreached = 0;
        for (const recorded of steps.keys()) if (!this.#seen.has(recorded)) unreached++;
        this.end(stepsExceeded(this.input.maxSteps, unreached));
        return ended();
      }
      await this.#checkpoint();
      this.#replaying = false;
    }
    return body(steps.get(name));
  }

  async #checkpoint(): Promise<void> {
    if (Date.now() - this.#yieldedAt >= YIELD_EVERY_MS) {
      await yieldToOtherRequests();
      this.#yieldedAt = Date.now();
    }
    if (this.#over) return ended();
    if (Date.now() >= this.input.job.deadline_at) return this.#timeOut();
    if (Date.now() - this.#start >= this.input.budgetMs) return this.#suspend(Date.now());
  }

  async #attempts<T>(name: string, record: StoredStep | undefined, options: StepOptions, fn: StepFn<T>): Promise<T> {
    const retries = { ...STEP_DEFAULTS.retries, ...options.retries };
    const timeoutMs = toMs(options.timeout ?? STEP_DEFAULTS.timeout);
    if (record?.state === "running" && !mayResumeInterrupted(record.attempts, retries.limit)) {
      return this.#fail(record, "The step was interrupted (crash or eviction) and has no retries left");
    }
    let current: StepRecord = record ?? this.#newRecord(name);
    for (;;) {
      const attempt = current.attempts + 1;
      // Saved and made durable before the work runs, so a crash mid-step re-runs it as
      // the next attempt and a finished step never runs again. The same write carries the
      // previous step's result and events. The output gate alone would hold what the body
      // sends out until the write is durable, but not keep it: a body that kills the object
      // before its first await (a CPU-bound loop past the limit, memory) would take its
      // uncommitted start with it and run again as the same attempt, for ever.
      current = { ...current, state: "running", attempts: attempt, startedAt: Date.now(), until: null };
      if (!this.#save(current, { name, status: "started", attempt })) return ended();
      this.input.events.flush({ all: false });
      await this.input.store.sync();
      if (this.#over) return ended();
      let value: T;
      this.input.events.bodyStarted();
      try {
        value = await this.#withTimeout(fn, attempt, timeoutMs);
      } catch (error) {
        if (this.#over) return ended();
        const message = describe(error).message;
        const decision = decideRetry({
          attempt, nonRetryable: error instanceof NonRetryableError, now: Date.now(), deadline: this.input.job.deadline_at,
          retries: { limit: retries.limit, delayMs: toMs(retries.delay), backoff: retries.backoff },
        });
        if (decision.kind === "fail") return this.#fail(current, message);
        if (decision.kind === "time_out") return this.#timeOut({ name, message: `The next attempt of step "${name}" would start after the job's deadline` });
        current = { ...current, state: "waiting", error: message, until: decision.at };
        if (!this.#save(current, { name, status: "retrying", attempt, until: decision.at, error: message })) return ended();
        if (decision.at > Date.now()) return this.#suspend(decision.at);
        await this.#checkpoint();
        continue;
      } finally {
        this.input.events.bodyEnded();
      }
      if (this.#over) return ended();
      const stored = toStoredJson(value);
      if ("problem" in stored) return this.#fail(current, `The step's result ${stored.problem}`);
      // A step that needed retries keeps its last failure as `error`: why it needed them.
      const done: StepRecord = { ...current, state: "succeeded", finishedAt: Date.now() };
      if (!this.#save(done, { name, status: "succeeded", attempt }, stored.text)) return ended();
      return (stored.text === null ? undefined : JSON.parse(stored.text)) as T;
    }
  }

  async #withTimeout<T>(fn: StepFn<T>, attempt: number, timeoutMs: number): Promise<T> {
    const limitMs = Math.min(timeoutMs, this.input.job.deadline_at - Date.now());
    const controller = new AbortController();
    const onCancel = () => controller.abort(this.input.signal.reason);
    this.input.signal.addEventListener("abort", onCancel);
    try {
      const result = fn({ attempt, signal: controller.signal });
      // A body that returned without a promise (a throw leaves above) had nothing to time
      // out or cancel: no timer, which most steps of a job that only logs would arm and clear.
      if (!isThenable(result)) return result;
      let rejectTimeout!: (error: Error) => void;
      const timeout = new Promise<never>((_, reject) => (rejectTimeout = reject));
      const timer = setTimeout(() => {
        const error = new StepTimeoutError(`The step timed out after ${limitMs} ms`);
        controller.abort(error);
        rejectTimeout(error);
      }, Math.max(0, limitMs));
      try {
        return await Promise.race([result, timeout]);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      this.input.signal.removeEventListener("abort", onCancel);
    }
  }

  #fail(record: StepRecord, message: string): never {
    const failedRecord: StepRecord = { ...record, state: "failed", error: message, finishedAt: Date.now(), until: null };
    this.#save(failedRecord, { name: record.name, status: "failed", attempt: record.attempts, error: message });
    throw new StepFailedError(record.name, `Step "${record.name}" failed: ${message}`);
  }

  #storedResult<T>(record: StoredStep): T {
    const text = record.resultRow === null ? null : this.input.store.stepResult(record.resultRow);
    return (text === null ? undefined : JSON.parse(text)) as T;
  }

  #newRecord(name: string): StepRecord {
    return { position: this.input.events.steps().size, name, state: "running", attempts: 0, error: null, startedAt: null, finishedAt: null, until: null };
  }

  /** Records a step's new state with its event; false when the budget refused it (the slice then ends). */
  #save(record: StepRecord, event: EventData["step"], result: string | null = null): boolean {
    return this.input.events.saveStep(record, event, result);
  }

  #suspend(until: number): Promise<never> {
    this.end({ kind: "suspended", until });
    return ended();
  }

  #timeOut(step?: { name: string; message: string }): Promise<never> {
    this.end(timedOut(step));
    return ended();
  }
}

// The authoring API for job types: defineJob({ type, input, run }) with durable steps,
// shaped after Cloudflare Workflows so its users feel at home.
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Duration } from "../lib/duration";
import type { Budget, Json, LogLevel, Progress } from "../protocol";

export type Backoff = "constant" | "linear" | "exponential";

export interface RetryOptions {
  /** Retries after the first attempt. */
  limit?: number;
  /** Wait before the first retry; later waits grow by `backoff`. */
  delay?: Duration;
  backoff?: Backoff;
}

export interface StepOptions {
  retries?: RetryOptions;
  /** Per attempt; a timed-out attempt counts as a failed one and may be retried. */
  timeout?: Duration;
}

/** Defaults match Cloudflare Workflows' step defaults. */
export const STEP_DEFAULTS = {
  retries: { limit: 5, delay: "10 seconds", backoff: "exponential" },
  timeout: "10 minutes",
} as const satisfies { retries: Required<RetryOptions>; timeout: Duration };

export interface StepAttempt {
  /** 1 on the first attempt. */
  attempt: number;
  /** Aborts on cancel, on the step's timeout and on the job's deadline. */
  signal: AbortSignal;
}

export type StepFn<T> = (attempt: StepAttempt) => T | Promise<T>;

/**
 * `T` if JSON keeps it as it is, so that a step's or a job's typed result is the value
 * every replay gets back: a Date (which comes back a string), a Map or a Set (`{}`), a
 * function, a bigint, or an object with methods does not compile, in an array or a union
 * too. (NaN and Infinity, which come back null, cannot be told by type; nor a bigint
 * returned alone, nor a cycle: the engine fails the step then, its result "is not JSON".)
 */
export type Jsonable<T> =
  | string | number | boolean | null | undefined | void
  | ReadonlyArray<T extends ReadonlyArray<infer U> ? JsonableMember<U> : never>
  // Methods (a Date's, a Map's, a class's) make a property `never`, so the object does not fit.
  | { [K in keyof T]: K extends string ? JsonableMember<T[K]> : never };

/**
 * An element's or a property's type, checked member by member of a union (a conditional
 * on its own parameter distributes): checked whole, `(() => void) | null` or
 * `number | bigint` is no function or bigint, and an array of either got by.
 */
type JsonableMember<T> = T extends ((...args: never[]) => unknown) | bigint | symbol ? never : Jsonable<T>;

export interface Step {
  /**
   * A memoized, retried unit of work. Its result must be JSON (`Jsonable`): it is stored
   * and every caller (the first run and each replay) gets the JSON round-tripped value.
   */
  do<T extends Jsonable<T>>(name: string, fn: StepFn<T>): Promise<T>;
  do<T extends Jsonable<T>>(name: string, options: StepOptions, fn: StepFn<T>): Promise<T>;
  /** A durable sleep: the job's alarm wakes it; nothing waits in memory. */
  sleep(name: string, duration: Duration): Promise<void>;
  sleepUntil(name: string, when: Date | number): Promise<void>;
}

export interface RunContext<Input> {
  jobId: string;
  input: Input;
  step: Step;
  /** Coalesced: updates inside a short window publish only the latest. */
  progress(update: Progress): void;
  log(level: LogLevel, message: string): void;
  /** Aborts when the job is canceled. */
  signal: AbortSignal;
}

/**
 * A job type. Its `type`, its input schema and what `run` returns are kept in the
 * definition's type, so the typed client (src/sdk) knows each type's input and result.
 */
export interface JobDefinition<Type extends string = string, Schema extends StandardSchemaV1 = StandardSchemaV1, Result = unknown> {
  type: Type;
  description: string;
  input: Schema;
  /** JSON Schema of the input for forms and API clients. */
  inputJsonSchema: Json;
  /** A valid input, shown in the docs and prefilled in forms: checked against the schema's type. */
  example: Json & StandardSchemaV1.InferInput<Schema>;
  /** Never created by anonymous visitors, whatever PUBLIC_JOB_TYPES lists (benchmark and test types). */
  ownersOnly?: boolean;
  /** A budget tighter than the deployment's, for every job of this type. */
  budget?: Partial<Budget>;
  /** What a job with this input will need, checked against its budget at create (400 over it). */
  needs?(input: StandardSchemaV1.InferOutput<Schema>): Partial<Budget>;
  /** What `needs` allows of the input under a visitor's budget, in words for the start page's field hints, by property. */
  inputHints?(budget: Budget): Record<string, string>;
  /** The job's result: JSON (at most 1 MiB), returned to whoever asks for the job. */
  run(ctx: RunContext<StandardSchemaV1.InferOutput<Schema>>): Promise<Result>;
}

/** Any job type, whatever its input and result, as the engine holds them. */
// The engine only ever passes each type's own validated input to its `run`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobDefinition = JobDefinition<string, StandardSchemaV1, any>;

export function defineJob<const Type extends string, Schema extends StandardSchemaV1, Result extends Jsonable<Result>>(
  definition: JobDefinition<Type, Schema, Result>,
): JobDefinition<Type, Schema, Result> {
  return definition;
}

/** Each type's input (as callers send it) and result, by type name: what the typed client needs. */
export type JobTypesOf<Definitions extends readonly AnyJobDefinition[]> = {
  [D in Definitions[number] as D["type"]]: {
    input: StandardSchemaV1.InferInput<D["input"]>;
    result: Awaited<ReturnType<D["run"]>>;
  };
};

/** Thrown by job code to fail the job at once, without retries. */
export class NonRetryableError extends Error {
  override name = "NonRetryableError";
}

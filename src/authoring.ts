// The library's authoring entry ("live-jobs/define"): what job types are written with.
// It needs no Workers runtime, so a typed client's code can import job types' types.
export { defineJob, NonRetryableError, STEP_DEFAULTS } from "./jobs/define";
export type {
  AnyJobDefinition, Backoff, JobDefinition, JobTypesOf, Jsonable, RetryOptions, RunContext, Step, StepAttempt, StepFn, StepOptions,
} from "./jobs/define";
export { durationInput } from "./jobs/duration-input";
export { jsonSchemaOf } from "./lib/json-schema";
export { parseDuration, type Duration, type DurationUnit } from "./lib/duration";

// The one place job types are registered.
import type { JobTypeInfo } from "../protocol";
import type { JobDefinition } from "./define";
import { demo } from "./demo";
import { echo } from "./echo";
import { flaky } from "./flaky";
import { primes } from "./primes";
import { sleepy } from "./sleepy";
import { ticker } from "./ticker";

/** Add a job type here: every listing, form and validation reads this list. */
export const JOB_TYPES: JobDefinition[] = [demo, primes, flaky, sleepy, echo, ticker];

const byType = new Map(JOB_TYPES.map((definition) => [definition.type, definition]));

/** What /job-types and the start page show of each type. */
export function jobTypeInfos(): JobTypeInfo[] {
  return JOB_TYPES.map((d) => ({ type: d.type, description: d.description, inputSchema: d.inputJsonSchema, example: d.example }));
}

/** For worker entries that add types of their own (the tests' fixture types). */
export function registerJobType(definition: JobDefinition): void {
  if (byType.has(definition.type)) throw new Error(`Job type "${definition.type}" is registered twice`);
  JOB_TYPES.push(definition);
  byType.set(definition.type, definition);
}

export function findJobType(type: string): JobDefinition | undefined {
  return byType.get(type);
}

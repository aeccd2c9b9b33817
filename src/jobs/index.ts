// The one place job types are registered.
import type { JobDefinition } from "./define";
import { demo } from "./demo";
import { flaky } from "./flaky";
import { primes } from "./primes";
import { sleepy } from "./sleepy";

export const JOB_TYPES: readonly JobDefinition[] = [demo, primes, flaky, sleepy];

const byType = new Map(JOB_TYPES.map((definition) => [definition.type, definition]));

export function findJobType(type: string): JobDefinition | undefined {
  return byType.get(type);
}

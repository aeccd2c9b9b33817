// This application's job types: the demo app is one consumer of the engine.
import { demo } from "./demo";
import { echo } from "./echo";
import { flaky } from "./flaky";
import { primes } from "./primes";
import { sleepy } from "./sleepy";
import { ticker } from "./ticker";

/** Add a job type here: listings, forms and validation read this list. */
export const JOB_TYPES = [demo, primes, flaky, sleepy, echo, ticker] as const;

import type { Env } from "../../src/env";
import type { FloorObject } from "./floor";

/** The app's bindings plus the floor's object. */
export interface BenchEnv extends Env {
  FLOOR: DurableObjectNamespace<FloorObject>;
}

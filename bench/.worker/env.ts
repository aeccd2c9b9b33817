import type { Env } from "../../src/env";
import type { FloorIndex, FloorObject } from "./floor";

/** The app's bindings plus the floor's objects. */
export interface BenchEnv extends Env {
  FLOOR: DurableObjectNamespace<FloorObject>;
  FLOOR_INDEX: DurableObjectNamespace<FloorIndex>;
}

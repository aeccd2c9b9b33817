// The bench's Worker (bench/wrangler.toml): the app, built as app/worker.ts builds it, with
// the benchmark's own job types added, and the floor contender under /floor/.
import { JOB_TYPES } from "../../app/jobs";
import { liveJobs } from "../../src/server";
import type { BenchEnv } from "./env";
import { floorFetch, FloorIndex, FloorObject } from "./floor";
import { BENCH_JOB_TYPES } from "./jobs";

const live = liveJobs({ types: [...JOB_TYPES, ...BENCH_JOB_TYPES] });

export const JobObject = live.JobObject;
export const OwnerIndex = live.OwnerIndex;
export { FloorIndex, FloorObject };

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname.startsWith("/floor/")) return floorFetch(request, env);
    return live.app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<BenchEnv>;

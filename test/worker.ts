// The test Worker: the demo app's job types plus fixtures that count their side effects,
// an owner index whose reports can be made to fail, and job objects that a test can start
// with other vars, as a deploy that changed wrangler.toml would.
import { JOB_TYPES } from "../app/jobs";
import type { Env } from "../src/env";
import type { JobListing } from "../src/protocol";
import { liveJobs } from "../src/server";
import { fixtureJobTypes, indexFaults, redeployed } from "./fixtures/jobs";

const live = liveJobs({ types: [...JOB_TYPES, ...fixtureJobTypes] });

export class JobObject extends live.JobObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, { ...env, ...redeployed.vars });
  }
}
export const JobsRpc = live.JobsRpc;
export class OwnerIndex extends live.OwnerIndex {
  override report(listing: JobListing, seq: number): void {
    if (indexFaults.failing) throw new Error("injected index failure");
    super.report(listing, seq);
  }
}
export default live.app;

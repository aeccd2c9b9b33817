// The test Worker: the demo app's job types plus fixtures that count their side effects,
// and an owner index whose reports can be made to fail.
import { JOB_TYPES } from "../app/jobs";
import type { JobListing } from "../src/protocol";
import { liveJobs } from "../src/server";
import { fixtureJobTypes, indexFaults } from "./fixtures/jobs";

const live = liveJobs({ types: [...JOB_TYPES, ...fixtureJobTypes] });

export const JobObject = live.JobObject;
export const JobsRpc = live.JobsRpc;
export class OwnerIndex extends live.OwnerIndex {
  override report(listing: JobListing, seq: number): void {
    if (indexFaults.failing) throw new Error("injected index failure");
    super.report(listing, seq);
  }
}
export default live.app;

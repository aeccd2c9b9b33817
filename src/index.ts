// The demo Worker: the engine with this repository's job types.
import { JOB_TYPES } from "./jobs";
import { liveJobs } from "./server";

const live = liveJobs({ types: JOB_TYPES });

export const JobObject = live.JobObject;
export const OwnerIndex = live.OwnerIndex;
export default live.app;

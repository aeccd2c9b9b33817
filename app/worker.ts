// The demo Worker: the engine with this repository's job types.
import { liveJobs } from "../src/server";
import { JOB_TYPES } from "./jobs";

const live = liveJobs({ types: JOB_TYPES });

export const JobObject = live.JobObject;
export const JobsRpc = live.JobsRpc;
export const OwnerIndex = live.OwnerIndex;
export default live.app;

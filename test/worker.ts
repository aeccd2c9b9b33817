// The test Worker: the demo app's job types plus fixtures that count their side effects.
import { JOB_TYPES } from "../src/jobs";
import { liveJobs } from "../src/server";
import { fixtureJobTypes } from "./fixtures/jobs";

const live = liveJobs({ types: [...JOB_TYPES, ...fixtureJobTypes] });

export const JobObject = live.JobObject;
export default live.app;

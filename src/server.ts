// The library's entry: give it your job types, export what it returns from your Worker.
//
//   const live = liveJobs({ types: [report, importer] });
//   export const JobObject = live.JobObject;   // wrangler.toml binds JOBS to it
//   export const OwnerIndex = live.OwnerIndex; // and INDEX to this
//   export default live.app;
import { JobObject } from "./job/job-object";
import type { JobDefinition } from "./jobs/define";
import { JobRegistry } from "./jobs/registry";
import { createApp } from "./http/app";
import { OwnerIndex } from "./owners/owner-index";

export interface LiveJobsOptions {
  types: JobDefinition[];
}

export function liveJobs(options: LiveJobsOptions) {
  const types = new JobRegistry(options.types);
  class ApplicationJobObject extends JobObject {
    protected override readonly types = types;
  }
  return { app: createApp({ types }), JobObject: ApplicationJobObject, OwnerIndex, types };
}

// The library's server entry: give it your job types, export what it returns from your
// Worker, and bind the two Durable Object classes in wrangler.toml.
//
//   const live = liveJobs({ types: [report, importer] });
//   export const JobObject = live.JobObject;   // wrangler.toml binds JOBS to it
//   export const OwnerIndex = live.OwnerIndex; // and INDEX to this
//   export const JobsRpc = live.JobsRpc;       // for other Workers, through a service binding
//   export default live.app;                   // or mount it: yourApp.route("/", live.app)
import { JobObject } from "./job/job-object";
import type { AnyJobDefinition } from "./jobs/define";
import { JobRegistry } from "./jobs/registry";
import { createApp } from "./http/app";
import { OwnerIndex } from "./owners/owner-index";
import { jobsRpcClass } from "./rpc";

export interface LiveJobsOptions<Types extends readonly AnyJobDefinition[]> {
  types: Types;
}

export function liveJobs<const Types extends readonly AnyJobDefinition[]>(options: LiveJobsOptions<Types>) {
  const types = new JobRegistry(options.types);
  class ApplicationJobObject extends JobObject {
    protected override readonly types = types;
  }
  return { app: createApp({ types }), JobObject: ApplicationJobObject, OwnerIndex, JobsRpc: jobsRpcClass(types), types };
}

export * from "./authoring";
export type { Env } from "./env";
export type * from "./protocol";
export type { JobsApi, OwnerJobsApi, RpcCreate, RpcCreated, RpcCreateOf, RpcListFilter } from "./rpc";

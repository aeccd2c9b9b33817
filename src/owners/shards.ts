// Which index object holds an owner's job: jobs spread over INDEX_SHARDS objects per owner
// by their id, so an owner with very many jobs is not bound to one object's request rate.
import type { Config } from "../config";
import type { Env } from "../env";
import { idOfName } from "../lib/named-object";
import { listingOf } from "./listing";
import type { AdmitOutcome, IndexRpc } from "./owner-index";

/** A stable shard from the job id's first characters (ids are random). */
export function shardOf(jobId: string, shards: number): number {
  let hash = 0;
  for (let i = 0; i < 8 && i < jobId.length; i++) hash = (hash * 31 + jobId.charCodeAt(i)) >>> 0;
  return hash % shards;
}

export function indexShard(env: Env, owner: string, shard: number): IndexRpc {
  return env.INDEX.get(idOfName(env.INDEX, `${owner}\u0000${shard}`)) as unknown as IndexRpc;
}

export function indexFor(env: Env, owner: string, jobId: string, shards: number): IndexRpc {
  return indexShard(env, owner, shardOf(jobId, shards));
}

/** A new job's first listing, for its admission. */
export interface Admission {
  id: string;
  type: string;
  tags: string[];
  createdAt: number;
}

/**
 * Each shard's share of the cap on an owner's active jobs, as jobs spread evenly over
 * shards by id; rounded up, so that no shard refuses an owner who has none.
 */
export function shardCap(config: Pick<Config, "maxActiveJobs" | "indexShards">): number {
  return Math.ceil(config.maxActiveJobs / config.indexShards);
}

/** Admits a new job into its owner's index, which holds the cap on active jobs (each shard its share). */
export function admitJob(env: Env, config: Pick<Config, "maxActiveJobs" | "indexShards">, owner: string, job: Admission): Promise<AdmitOutcome> {
  const listing = listingOf({ ...job, state: "queued", progress: null, error: null, startedAt: null, finishedAt: null });
  return indexFor(env, owner, job.id, config.indexShards).admit(listing, shardCap(config));
}

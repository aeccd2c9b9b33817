// Which index object holds an owner's job: jobs spread over INDEX_SHARDS objects per owner
// by their id, so an owner with very many jobs is not bound to one object's request rate.
import type { Env } from "../env";
import type { IndexRpc } from "./owner-index";

/** A stable shard from the job id's first characters (ids are random). */
export function shardOf(jobId: string, shards: number): number {
  let hash = 0;
  for (let i = 0; i < 8 && i < jobId.length; i++) hash = (hash * 31 + jobId.charCodeAt(i)) >>> 0;
  return hash % shards;
}

export function indexShard(env: Env, owner: string, shard: number): IndexRpc {
  return env.INDEX.get(env.INDEX.idFromName(`${owner}\u0000${shard}`)) as unknown as IndexRpc;
}

export function indexFor(env: Env, owner: string, jobId: string, shards: number): IndexRpc {
  return indexShard(env, owner, shardOf(jobId, shards));
}

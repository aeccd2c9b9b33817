// GET /jobs: the caller's own jobs, newest first, a page at a time, with counts by
// state; filters by state, type and tag. Read from the owner's index (every shard).
import type { Context } from "hono";
import { cursorPlace, listCursor } from "../lib/list-cursor";
import { DEFAULT_LIST_LIMIT, EMPTY_COUNTS, type ListFilter } from "../owners/index-store";
import { indexShard } from "../owners/shards";
import type { JobList, JobListing, JobState } from "../protocol";
import type { Env } from "../env";
import type { AppEnv } from "./app-env";
import { unauthorized } from "./auth";
import { TAG_PATTERN } from "./create-request";
import { ApiError } from "./errors";
import { JOB_STATES } from "../lib/job-state";

export const MAX_LIST_LIMIT = 100;

export async function listJobs(c: Context<AppEnv>): Promise<Response> {
  const principal = c.var.principal;
  if (principal.kind !== "owner") throw unauthorized("Listing jobs needs credentials: Authorization: Bearer <token or JWT>, or a dashboard session");
  return c.json(await listFor(c.env, c.var.config.indexShards, principal.owner, parseFilter(knownListParams(c.req.query()))));
}

/** What a list may be asked: its filters and its page. */
export const LIST_PARAMS: readonly string[] = ["state", "type", "tag", "limit", "cursor"];

/**
 * The API's list refuses a parameter it does not know: a typo (`?stat=failed`) would
 * otherwise list every job, unfiltered, to a script that may act on each one (cancel,
 * delete). The dashboard, whose links may carry others, leaves them be.
 */
export function knownListParams(query: Record<string, string | undefined>): Record<string, string | undefined> {
  const unknown = Object.keys(query).find((name) => !LIST_PARAMS.includes(name));
  if (unknown === undefined) return query;
  // The name is the client's own text: named only when it could be one of ours.
  const named = /^[a-zA-Z_]{1,20}$/.test(unknown) ? ` (${unknown})` : "";
  throw invalid(`Unknown query parameter${named}: a list takes ${LIST_PARAMS.join(", ")}`);
}

/**
 * An owner's jobs from every shard of its index, merged newest first. Each shard is asked
 * for one job more than the page, so `next` is null when no job follows (a page that was
 * merely full led to an empty one, which the dashboard called "No jobs yet").
 */
export async function listFor(env: Env, shards: number, owner: string, filter: ListFilter): Promise<JobList> {
  const answers = await Promise.all(Array.from({ length: shards }, (_, shard) => indexShard(env, owner, shard).list({ ...filter, limit: filter.limit + 1 })));
  const merged = answers.flatMap((answer) => answer.jobs).sort(newestFirst);
  const jobs = merged.slice(0, filter.limit);
  const counts = { ...EMPTY_COUNTS };
  for (const answer of answers) for (const state of JOB_STATES) counts[state] += answer.counts[state];
  const last = jobs.at(-1);
  const feed = answers.map((answer) => answer.feed).join(".");
  return { jobs, next: merged.length > filter.limit && last ? listCursor(last) : null, counts, feed };
}

function newestFirst(a: JobListing, b: JobListing): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** `state`, `type`, `tag`, `limit`, `cursor` as a query gives them; a 400 for anything else. */
export function parseFilter(query: Record<string, string | undefined>): ListFilter {
  const { state, type, tag, limit, cursor } = query;
  if (state !== undefined && state !== "" && !JOB_STATES.includes(state as JobState)) throw invalid(`state must be one of ${JOB_STATES.join(", ")}`);
  if (type !== undefined && type.length > 100) throw invalid("type is at most 100 characters");
  if (tag !== undefined && tag !== "" && !TAG_PATTERN.test(tag)) throw invalid("tag must be 1 to 40 letters, digits or _ . : @ -");
  const size = limit === undefined || limit === "" ? DEFAULT_LIST_LIMIT : /^\d{1,3}$/.test(limit) ? Number(limit) : NaN;
  if (!(size >= 1 && size <= MAX_LIST_LIMIT)) throw invalid(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  return {
    ...(state ? { state: state as JobState } : {}),
    ...(type ? { type } : {}),
    ...(tag ? { tag } : {}),
    ...(cursor ? { before: decodeCursor(cursor) } : {}),
    limit: size,
  };
}

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  const place = cursor.length <= 200 ? cursorPlace(cursor) : null;
  // A cursor is only ever one this API handed out.
  if (place === null || place.id.length > 64) throw invalid("cursor is not one this API handed out");
  return place;
}

const invalid = (message: string) => new ApiError(400, "invalid_query", message);

// POST /jobs: parse and validate, check who may create what and how often, mint the id
// (scoped to the owner's Idempotency-Key), create the job in its object, and answer:
// 201 with the control token, 303 to the page for a browser form, or a live stream.
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { setCookie } from "hono/cookie";
import { randomToken, sha256, toHex } from "../lib/crypto";
import type { CreatedJob } from "../protocol";
import type { AppEnv } from "./app-env";
import { createRefusal, type Principal, unauthorized } from "./auth";
import { tighter } from "../config";
import { listingOf } from "../owners/listing";
import { indexFor } from "../owners/shards";
import type { Budget, BudgetLimit } from "../protocol";
import { fingerprint, readJobRequest, type JobRequest } from "./create-request";
import { ApiError } from "./errors";
import { mintJobId } from "./job-id";
import { jobUrls } from "./job-urls";
import { CONTROL_COOKIE, stubFor } from "./jobs-app";
import { followKind, liveResponse } from "./live-routes";

/** Both rate limits count per 60-second window (wrangler.toml's `period`). */
const RATE_LIMIT_PERIOD_S = 60;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Refuses a body over MAX_BODY_BYTES before any of it is parsed. */
export const limitCreateBody: MiddlewareHandler<AppEnv> = (c, next) => {
  const maxSize = c.var.config.maxBodyBytes;
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError(413, "body_too_large", `The body may be at most ${maxSize} bytes`);
    },
  })(c, next);
};

export async function createJob(c: Context<AppEnv>): Promise<Response> {
  return submitJob(c, await readJobRequest(c, c.var.types));
}

/** Creates a job from a validated request (a create, or a run again) and answers for it. */
export async function submitJob(c: Context<AppEnv>, request: JobRequest): Promise<Response> {
  const { config, access, principal } = c.var;
  const refusal = createRefusal(principal, request.definition, access);
  if (refusal) throw refusal;
  const budget = tighter(principal.kind === "owner" ? config.budget : config.publicBudget, request.definition.budget ?? {});
  const timeoutMs = request.timeoutMs ?? Math.min(config.defaultJobTimeoutMs, budget.runTimeMs);
  checkNeeds(request, { ...(request.definition.needs?.(request.input) ?? {}), runTimeMs: timeoutMs }, budget);
  const idempotencyKey = readIdempotencyKey(c, principal);
  await checkRateLimit(c, principal);

  const id = await mintJobId(access.jobIdSecret, idempotencyKey);
  const controlToken = randomToken();
  const owner = principal.kind === "owner" ? principal.owner : null;
  const createdAt = Date.now();
  if (owner !== null) await admit(c, owner, id, request, createdAt);
  const outcome = await stubFor(c.env, id).create({
    id, type: request.type, input: request.input, timeoutMs, fingerprint: await fingerprint(request),
    owner, controlHash: toHex(await sha256(controlToken)), budget, tags: request.tags, createdAt,
  });
  if (outcome.status === "conflict") {
    throw new ApiError(409, "idempotency_key_reused", "You already used this Idempotency-Key for a different request");
  }
  const created = outcome.status === "created";
  const urls = jobUrls(c, id);
  if (request.fromForm) {
    // A browser keeps the right to cancel in a cookie only its own requests to this job carry.
    if (created) {
      setCookie(c, CONTROL_COOKIE, controlToken, {
        path: `/jobs/${id}`, httpOnly: true, sameSite: "Strict", secure: urls.self.startsWith("https:"),
        maxAge: Math.ceil((timeoutMs + config.retentionMs) / 1000),
      });
    }
    return c.redirect(urls.page, 303);
  }
  const status = created ? 201 : 200;
  const headers: Record<string, string> = { Location: urls.self };
  // The token is handed out once, with the 201; a retried create does not repeat it.
  if (created) headers["Control-Token"] = controlToken;
  const follow = followKind(c);
  if (follow) return liveResponse(c, stubFor(c.env, id), follow, 0, { status, headers });
  const body: CreatedJob = { id, state: outcome.snapshot.state, urls, ...(created ? { controlToken } : {}) };
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.json(body, status);
}

function readIdempotencyKey(c: Context, principal: Principal): { owner: string; key: string } | undefined {
  const key = c.req.header("Idempotency-Key")?.trim();
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 visible ASCII characters");
  }
  // Keys are scoped to their owner; strangers have no scope in which a key could be theirs.
  if (principal.kind !== "owner") throw unauthorized("An Idempotency-Key needs credentials: keys are kept per owner");
  return { owner: principal.owner, key };
}

async function checkRateLimit(c: Context<AppEnv>, principal: Principal): Promise<void> {
  const [limiter, key, who] = principal.kind === "owner"
    ? [c.env.OWNER_CREATE_LIMIT, `owner:${principal.owner}`, "this owner"]
    : [c.env.ANON_CREATE_LIMIT, `ip:${principal.ip}`, "anonymous visitors from this address"];
  if (!limiter || (await limiter.limit({ key })).success) return;
  throw new ApiError(429, "rate_limited", `Too many jobs created by ${who}; try again in a minute`, undefined, {
    "Retry-After": String(RATE_LIMIT_PERIOD_S),
  });
}

const LIMIT_WORDS: Record<BudgetLimit, string> = { steps: "steps", events: "events", bytes: "bytes stored", runTimeMs: "ms of run time" };

/** Refuses up front a job that would need more than its budget: what it asked (timeoutMs) or what its type says its input needs. */
function checkNeeds(request: JobRequest, needs: Partial<Budget>, budget: Budget): void {
  for (const limit of Object.keys(needs) as BudgetLimit[]) {
    const needed = needs[limit];
    if (needed === undefined || needed <= budget[limit]) continue;
    const what = limit === "runTimeMs" ? "timeoutMs asks for" : `this "${request.type}" input needs`;
    throw new ApiError(400, "limit_exceeded", `Over the ${limit} limit: ${what} ${needed.toLocaleString("en-US")} ${LIMIT_WORDS[limit]}; the limit is ${budget[limit].toLocaleString("en-US")}`);
  }
}

/** An owner's new job enters its index first, which holds the cap on active jobs. */
async function admit(c: Context<AppEnv>, owner: string, id: string, request: JobRequest, createdAt: number): Promise<void> {
  const { maxActiveJobs, indexShards } = c.var.config;
  const listing = listingOf({
    id, type: request.type, state: "queued", tags: request.tags, progress: null, error: null, createdAt, startedAt: null, finishedAt: null,
  });
  // Each shard keeps its share of the cap: jobs spread evenly over shards by id.
  const outcome = await indexFor(c.env, owner, id, indexShards).admit(listing, Math.ceil(maxActiveJobs / indexShards));
  if (outcome === "full") {
    throw new ApiError(429, "too_many_active_jobs", `You have ${maxActiveJobs} queued, running or waiting jobs, the most one owner may have; wait for some to end or cancel them`, undefined, {
      "Retry-After": "10",
    });
  }
}

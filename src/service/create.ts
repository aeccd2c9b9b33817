// Creating a job, whoever asks (the HTTP API, a form, "run again", RPC): who may create
// what and how often, the budget and what the input needs of it, the id (scoped to the
// owner's idempotency key), and the job's object, which stores the new job, then admits
// an owner's job into the owner's index (under the cap on active jobs), unmade if refused.
import type { AccessConfig } from "../access-config";
import { tighter, type Config } from "../config";
import type { Env } from "../env";
import { createRefusal, unauthorized, type Principal } from "../http/auth";
import { fingerprint, type JobRequest } from "../http/create-request";
import { ApiError, logIfReset } from "../http/errors";
import { mintJobId, type ScopedKey } from "../http/job-id";
import type { JobRpc } from "../job/job-object";
import type { AnyJobDefinition } from "../jobs/define";
import { shardCap } from "../owners/shards";
import type { JobRegistry } from "../jobs/registry";
import { randomToken, sha256, toHex } from "../lib/crypto";
import { idOfName } from "../lib/named-object";
import type { Budget, BudgetLimit, JobSnapshot } from "../protocol";

/** What every entry point knows of the deployment. */
export interface Deployment {
  env: Env;
  config: Config;
  access: AccessConfig;
  types: JobRegistry;
}

export interface Created {
  id: string;
  /** false: an idempotent retry found the job it made before. */
  created: boolean;
  snapshot: JobSnapshot;
  /** Handed out only with the create that made the job. */
  controlToken: string | null;
  timeoutMs: number;
}

/** Both rate limits count per 60-second window (wrangler.toml's `period`). */
export const RATE_LIMIT_PERIOD_S = 60;

export async function createJobAs(d: Deployment, principal: Principal, request: JobRequest, idempotencyKey?: ScopedKey): Promise<Created> {
  const { config, access } = d;
  const refusal = createRefusal(principal, request.definition, access);
  if (refusal) throw refusal;
  const budget = budgetFor(config, principal, request.definition);
  const needs = request.definition.needs?.(request.input) ?? {};
  checkNeeds(`this "${request.type}" input needs`, needs, budget);
  // Without a timeoutMs, the deadline is at least what the input needs (checked above to be
  // within the budget): the default must not time out a job that was accepted, such as a
  // 2-hour sleepy under a 1-hour default. A timeoutMs given is kept as given.
  const timeoutMs = request.timeoutMs ?? Math.max(defaultTimeoutMs(config, budget), needs.runTimeMs ?? 0);
  checkNeeds("timeoutMs asks for", { runTimeMs: timeoutMs }, budget);
  if (request.webhookUrl !== null) checkWebhook(request.webhookUrl, principal, access);
  await checkRateLimit(d.env, principal);

  const id = await mintJobId(access.jobIdSecrets[0]!, idempotencyKey);
  const controlToken = randomToken();
  const owner = principal.kind === "owner" ? principal.owner : null;
  const createdAt = Date.now();
  const outcome = await jobStub(d.env, id).create({
    id, type: request.type, input: request.input, timeoutMs, fingerprint: await fingerprint(request),
    owner, controlHash: toHex(await sha256(controlToken)), budget, tags: request.tags, webhookUrl: request.webhookUrl, createdAt,
    maxActiveJobs: config.maxActiveJobs, keyed: idempotencyKey !== undefined,
  }).catch((error: unknown) => {
    throw cutOff(error, idempotencyKey === undefined ? { id, controlToken, timeoutMs } : null) ?? error;
  });
  if (outcome.status === "full") throw tooManyActive(config.maxActiveJobs, config.indexShards);
  if (outcome.status === "unavailable") {
    // The key's job is that unrun one for good (a retry with the key finds it): a new key runs.
    const again = idempotencyKey === undefined ? "try again in a moment" : "try again in a moment with a new Idempotency-Key";
    throw new ApiError(503, "unavailable", `Your job list could not be reached to admit the job, so it did not run; ${again}`, undefined, { "Retry-After": "1" });
  }
  if (outcome.status === "retired") {
    throw new ApiError(409, "idempotency_key_reused", "This Idempotency-Key made a job that has since been deleted or expired; a new job needs a new key");
  }
  if (outcome.status === "conflict") {
    throw new ApiError(409, "idempotency_key_reused", "You already used this Idempotency-Key for a different request");
  }
  const created = outcome.status === "created";
  return { id, created, snapshot: outcome.snapshot, controlToken: created ? controlToken : null, timeoutMs };
}

/** The budget a job of this type runs under when this principal creates it. */
export function budgetFor(config: Config, principal: Principal, definition: AnyJobDefinition): Budget {
  return tighter(principal.kind === "owner" ? config.budget : config.publicBudget, definition.budget ?? {});
}

/** A job's deadline when its create gives none: the deployment's default, within the budget's run time. */
export function defaultTimeoutMs(config: Config, budget: Budget): number {
  return Math.min(config.defaultJobTimeoutMs, budget.runTimeMs);
}

export function jobStub(env: Env, id: string): JobRpc {
  return env.JOBS.get(idOfName(env.JOBS, id)) as unknown as JobRpc;
}

async function checkRateLimit(env: Env, principal: Principal): Promise<void> {
  const [limiter, key, who] = principal.kind === "owner"
    ? [env.OWNER_CREATE_LIMIT, `owner:${principal.owner}`, "this owner"]
    : [env.ANON_CREATE_LIMIT, `ip:${principal.ip}`, "anonymous visitors from this address"];
  if (!limiter || (await limiter.limit({ key })).success) return;
  throw new ApiError(429, "rate_limited", `Too many jobs created by ${who}; try again in a minute`, undefined, {
    "Retry-After": String(RATE_LIMIT_PERIOD_S),
  });
}

const LIMIT_WORDS: Record<BudgetLimit, string> = { steps: "steps", events: "events", bytes: "bytes stored", runTimeMs: "ms of run time" };

/** Refuses up front a job that would need more than its budget: what its type says its input needs, or what it asked (timeoutMs). */
function checkNeeds(what: string, needs: Partial<Budget>, budget: Budget): void {
  for (const limit of Object.keys(needs) as BudgetLimit[]) {
    const needed = needs[limit];
    if (needed === undefined || needed <= budget[limit]) continue;
    throw new ApiError(400, "limit_exceeded", `Over the ${limit} limit: ${what} ${needed.toLocaleString("en-US")} ${LIMIT_WORDS[limit]}; the limit is ${budget[limit].toLocaleString("en-US")}`);
  }
}

/**
 * A create whose object was reset (a deploy, a crash) or cut off while it made the job: the
 * job may be stored, and then its alarm runs and lists it. The general 503's "try again"
 * would make a second one (test/owner-index.test.ts); this says how to find the first.
 * Null for any other error (an overloaded object never started the create).
 */
function cutOff(error: unknown, unkeyed: CutOffJob | null): CreateCutOff | null {
  const platform = error as { durableObjectReset?: unknown; retryable?: unknown; overloaded?: unknown } | null;
  if (platform?.overloaded === true || (platform?.durableObjectReset !== true && platform?.retryable !== true)) return null;
  logIfReset(error);
  return new CreateCutOff(unkeyed);
}

/** The job a create without an Idempotency-Key may have made, and the control token only its answer can hand out. */
export interface CutOffJob {
  id: string;
  controlToken: string;
  timeoutMs: number;
}

/**
 * A create cut off by a reset of its object (503). Without a key, nothing else can hand the
 * creator the job's control token later (only the create that made a job does), so it
 * travels with the refusal, and controls the job if it exists; a browser's form post gets it
 * as the 303's cookie (src/http/create-route.ts).
 */
export class CreateCutOff extends ApiError {
  constructor(readonly mayHaveMade: CutOffJob | null) {
    super(503, "unavailable", mayHaveMade
      ? `The job's object restarted while it made the job, which may have been made: GET /jobs/${mayHaveMade.id} tells (410: it was not), and the Control-Token header controls it (with an Idempotency-Key, a retry finds it)`
      : "The job's object restarted while it made the job, which may have been made: a retry with the same Idempotency-Key finds it",
    undefined, { "Retry-After": "1", ...(mayHaveMade ? { "Control-Token": mayHaveMade.controlToken } : {}) });
  }
}

function tooManyActive(maxActiveJobs: number, indexShards: number): ApiError {
  return new ApiError(429, "too_many_active_jobs", tooManyActiveMessage(maxActiveJobs, indexShards), undefined, {
    "Retry-After": "10",
  });
}

/**
 * Why a create was refused at the cap. With INDEX_SHARDS > 1 each shard holds its share of
 * the cap (admitJob), so one shard fills while the owner has fewer active jobs than the cap:
 * about 82 of 100 over 4 shards, where the answer said "You have 100".
 */
export function tooManyActiveMessage(maxActiveJobs: number, indexShards: number): string {
  if (indexShards === 1) return `You have ${maxActiveJobs} queued, running or waiting jobs, the most one owner may have; wait for some to end or cancel them`;
  const share = shardCap({ maxActiveJobs, indexShards });
  return `Too many of your jobs are queued, running or waiting: one owner may have ${maxActiveJobs}, counted as ${share} in each of the ${indexShards} shards of its job list, and this job's shard has ${share}; wait for some to end or cancel them`;
}

/**
 * Webhooks go only where the deployment says (WEBHOOK_ORIGINS), only once they can be
 * signed, and only for owners: a stranger must not make the deployment call anyone.
 */
function checkWebhook(url: string, principal: Principal, access: AccessConfig): void {
  if (principal.kind !== "owner") throw unauthorized("A webhook needs an owner's credentials: Authorization: Bearer <token or JWT>");
  if (access.webhookKey === null) throw new ApiError(400, "webhooks_off", "This deployment sends no webhooks (WEBHOOK_SECRET is not set)");
  if (!access.webhookOrigins.includes(new URL(url).origin)) {
    throw new ApiError(400, "webhook_not_allowed", "The webhook's origin is not one this deployment may call (WEBHOOK_ORIGINS)");
  }
}

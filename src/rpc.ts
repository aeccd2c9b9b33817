// RPC for Workers of the same account, through a service binding to the JobsRpc
// entrypoint. The caller acts as one owner at a time, under that owner's rules: the
// same validation, budgets, rate limit and cap on active jobs as the HTTP API; control
// (cancel, delete) of its own jobs only; a job id is still a watch capability.
//
//   // wrangler.toml of the caller: [[services]] binding = "JOBS_API", service = "live-jobs", entrypoint = "JobsRpc"
//   const jobs = await env.JOBS_API.forOwner("alice");
//   const { id } = await jobs.create({ type: "primes", input: { n: 1_000_000 } });
//   const snapshot = await jobs.get(id);
//
// A refusal throws an Error whose message starts with its code: "forbidden: …".
import { RpcTarget, WorkerEntrypoint } from "cloudflare:workers";
import { OWNER_PATTERN, readDeploymentAccess } from "./access-config";
import { readConfig } from "./config";
import type { Env } from "./env";
import type { Principal } from "./http/auth";
import { validate } from "./http/create-request";
import { checkIdempotencyKey } from "./http/create-route";
import { ApiError, errorBody, notFound } from "./http/errors";
import { isGenuineJobId } from "./http/job-id";
import { alreadyFinished, controlRefusal, MAX_EVENT_PAGE } from "./http/jobs-app";
import { knownListParams, listFor, parseFilter } from "./http/list-route";
import type { ControlClaim } from "./job/job-object";
import { MAX_STEP_PAGE } from "./job/steps";
import type { JobRegistry } from "./jobs/registry";
import type { EventPage, JobList, JobSnapshot, JobState, Json, StepPage } from "./protocol";
import { createJobAs, jobStub, type Deployment } from "./service/create";

export interface RpcCreate {
  type: string;
  input?: Json;
  timeoutMs?: number;
  tags?: string[];
  /** As over HTTP: POSTed, signed, when the job ends (needs WEBHOOK_SECRET and WEBHOOK_ORIGINS). */
  webhook?: { url: string };
  /** Scoped to the owner, as the HTTP header. */
  idempotencyKey?: string;
}

export interface RpcListFilter {
  state?: JobState;
  type?: string;
  tag?: string;
  limit?: number;
  cursor?: string;
}

export interface RpcCreated {
  id: string;
  state: JobState;
  /** false: an idempotent retry found the job it made before. */
  created: boolean;
  /** Only with the create that made the job. */
  controlToken: string | null;
}

/** Each job type's input and result by name, as `JobTypesOf<typeof yourTypes>` gives them. */
type RpcJobTypes = Record<string, { input: unknown; result: unknown }>;

/**
 * A create of one type: with `JobsApi<JobTypesOf<typeof JOB_TYPES>>`, the type must be one
 * of them and the input that type's (optional only where every field is).
 */
export type RpcCreateOf<Types extends RpcJobTypes, K extends keyof Types & string> = Omit<RpcCreate, "type" | "input"> & { type: K } & ({} extends Types[K]["input"] ? { input?: Types[K]["input"] } : { input: Types[K]["input"] });

/**
 * The RPC surface as a caller's service binding sees it. Declared by hand because the
 * runtime's stub types, recursing through Json, exceed TypeScript's instantiation depth.
 * Give it your job types (`JobsApi<JobTypesOf<typeof JOB_TYPES>>`) to have creates
 * checked as the typed client checks them; without, any type and JSON input compile.
 */
export interface JobsApi<Types extends RpcJobTypes = Record<string, { input: Json | undefined; result: Json }>> {
  forOwner(owner: string): Promise<OwnerJobsApi<Types>>;
}

export interface OwnerJobsApi<Types extends RpcJobTypes = Record<string, { input: Json | undefined; result: Json }>> {
  create<K extends keyof Types & string>(request: RpcCreateOf<Types, K>): Promise<RpcCreated>;
  get(id: string): Promise<JobSnapshot | null>;
  events(id: string, since?: number, limit?: number): Promise<EventPage | null>;
  steps(id: string, after?: number, limit?: number): Promise<StepPage | null>;
  list(filter?: RpcListFilter): Promise<JobList>;
  cancel(id: string): Promise<JobSnapshot>;
  delete(id: string): Promise<void>;
}

export function jobsRpcClass(types: JobRegistry) {
  return class JobsRpc extends WorkerEntrypoint<Env> {
    /** The jobs of one owner: everything on the returned object acts as that owner. */
    async forOwner(owner: string): Promise<OwnerJobs> {
      if (typeof owner !== "string" || !OWNER_PATTERN.test(owner)) throw rpcError(new ApiError(400, "invalid_owner", "An owner is 1 to 128 visible characters, no `=` or `,`"));
      const deployment = { env: this.env, config: readConfig(this.env), access: await readDeploymentAccess(this.env, false, types), types };
      if (deployment.access.problems.length) throw rpcError(new ApiError(503, "misconfigured", deployment.access.problems.join("; ")));
      return new OwnerJobs(deployment, owner);
    }
  };
}

export class OwnerJobs extends RpcTarget implements OwnerJobsApi {
  readonly #principal: Principal & { kind: "owner" };

  constructor(private readonly deployment: Deployment, owner: string) {
    super();
    this.#principal = { kind: "owner", owner };
  }

  async create(request: RpcCreate): Promise<RpcCreated> {
    return guard(async () => {
      const { idempotencyKey, ...body } = request ?? ({} as RpcCreate);
      const parsed = await validate(body, false, this.deployment.types);
      const key = idempotencyKey === undefined ? undefined : { owner: this.#principal.owner, key: checkIdempotencyKey(String(idempotencyKey)) };
      const job = await createJobAs(this.deployment, this.#principal, parsed, key);
      return { id: job.id, state: job.snapshot.state, created: job.created, controlToken: job.controlToken };
    });
  }

  /** The job, with its `usage` when it is this owner's; null once it is gone. */
  async get(id: string): Promise<JobSnapshot | null> {
    return guard(async () => (await this.#job(id)).snapshot(this.#principal.owner));
  }

  /** As GET /jobs/:id/events: `since` and `limit` are whole numbers in range, or a refusal. */
  async events(id: string, since = 0, limit = 100): Promise<EventPage | null> {
    return guard(async () => {
      if (!Number.isSafeInteger(since) || since < 0) throw new ApiError(400, "invalid_query", "since must be an integer from 0");
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_EVENT_PAGE) throw new ApiError(400, "invalid_query", `limit must be an integer from 1 to ${MAX_EVENT_PAGE}`);
      return (await this.#job(id)).events(since, limit);
    });
  }

  /** As GET /jobs/:id/steps: `after` is the last position seen (-1 to start). */
  async steps(id: string, after = -1, limit = 100): Promise<StepPage | null> {
    return guard(async () => {
      if (!Number.isSafeInteger(after) || after < -1) throw new ApiError(400, "invalid_query", "after must be an integer from -1");
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_STEP_PAGE) throw new ApiError(400, "invalid_query", `limit must be an integer from 1 to ${MAX_STEP_PAGE}`);
      return (await this.#job(id)).steps(after, limit);
    });
  }

  /** This owner's jobs, as GET /jobs lists them. */
  async list(filter: RpcListFilter = {}): Promise<JobList> {
    return guard(async () => {
      if (typeof filter !== "object" || filter === null) throw new ApiError(400, "invalid_query", "A list's filter is an object: { state, type, tag, limit, cursor }, each optional");
      const query = Object.fromEntries(Object.entries(filter).map(([key, value]) => [key, value === undefined ? undefined : String(value)]));
      return listFor(this.deployment.env, this.deployment.config.indexShards, this.#principal.owner, parseFilter(knownListParams(query)));
    });
  }

  async cancel(id: string): Promise<JobSnapshot> {
    return guard(async () => {
      const outcome = await (await this.#job(id)).cancel(this.#claim());
      if (outcome.status === "canceled") return outcome.snapshot;
      if (outcome.status === "conflict") throw alreadyFinished(outcome.snapshot.state);
      throw controlRefusal(outcome.status);
    });
  }

  async delete(id: string): Promise<void> {
    return guard(async () => {
      const outcome = await (await this.#job(id)).erase(this.#claim());
      if (outcome.status !== "erased") throw controlRefusal(outcome.status);
    });
  }

  #claim(): ControlClaim {
    return { owner: this.#principal.owner, controlToken: null };
  }

  async #job(id: string) {
    if (typeof id !== "string" || !(await isGenuineJobId(this.deployment.access.jobIdSecrets, id))) throw notFound();
    return jobStub(this.deployment.env, id);
  }
}

/**
 * RPC carries an Error's message, not its fields: the code goes first in the message, and
 * the issues (which field, and why) follow it, bounded as in an HTTP answer.
 */
function rpcError(error: ApiError): Error {
  const { code, message, issues } = errorBody(error.code, error.message, error.issues).error;
  const detail = issues?.length ? ` (${issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join("; ")})` : "";
  return new Error(`${code}: ${message}${detail}`);
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof ApiError ? rpcError(error) : error;
  }
}

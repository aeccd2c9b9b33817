import type { JobObject } from "./job/job-object";
import type { OwnerIndex } from "./owners/owner-index";

/** Bindings and vars from wrangler.toml; secrets from `wrangler secret put` or .dev.vars. */
export interface Env {
  JOBS: DurableObjectNamespace<JobObject>;
  /** Each owner's index of jobs (one object per owner, per shard). */
  INDEX: DurableObjectNamespace<OwnerIndex>;
  /** Creates by anonymous visitors, per client IP; optional (no limit without it). */
  ANON_CREATE_LIMIT?: RateLimit;
  /** Creates by each owner; optional (no limit without it). */
  OWNER_CREATE_LIMIT?: RateLimit;
  JOB_ID_SECRET?: string;
  /** The JOB_ID_SECRET before a rotation: ids it tagged stay valid while it is set. */
  JOB_ID_SECRET_PREVIOUS?: string;
  /** `owner=token` pairs separated by commas. */
  API_TOKENS?: string;
  /** HS256 key for JWTs minted by the deployer's backend. */
  JWT_SECRET?: string;
  /** The JWT_SECRET before a rotation: JWTs it signed are taken while it is set. */
  JWT_SECRET_PREVIOUS?: string;
  /** Job types anonymous visitors may create, comma-separated. */
  PUBLIC_JOB_TYPES?: string;
  /** Other sites that may call the API from browsers, comma-separated origins. */
  ALLOWED_ORIGINS?: string;
  /** The deployment's own origin, e.g. https://jobs.example.com; URLs in answers use it. */
  PUBLIC_ORIGIN?: string;
  /** Signs completion webhooks (Standard Webhooks): `whsec_` and base64 of 24 to 64 random bytes. */
  WEBHOOK_SECRET?: string;
  /** The WEBHOOK_SECRET before a rotation: webhooks are signed with both while it is set. */
  WEBHOOK_SECRET_PREVIOUS?: string;
  /** Origins completion webhooks may be sent to, comma-separated (https, or http for listed local ones). */
  WEBHOOK_ORIGINS?: string;
  RETENTION?: string;
  DEFAULT_JOB_TIMEOUT?: string;
  ALARM_BUDGET?: string;
  BATCH_WINDOW?: string;
  /** A `/live` or `/feed` WebSocket that follows no source this long is closed. */
  LIVE_IDLE_TIMEOUT?: string;
  MAX_BODY_BYTES?: string;
  MAX_SUBSCRIBERS?: string;
  MAX_SUBSCRIBERS_PER_CLIENT?: string;
  /** Queued, running and waiting jobs one owner may have (429 above). */
  MAX_ACTIVE_JOBS?: string;
  /** Index objects per owner; jobs spread over them by id. */
  INDEX_SHARDS?: string;
  /** Each owner's job budget: "steps=…, events=…, bytes=…, runTime=…". */
  JOB_BUDGET?: string;
  /** Anonymous visitors' job budget, same form. */
  PUBLIC_JOB_BUDGET?: string;
}

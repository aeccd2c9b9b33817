// One Durable Object per job: platform entry points (RPC, fetch, alarm, webSocket*)
// that delegate to the store, the step engine, the event log and the fan-out.
import { DurableObject } from "cloudflare:workers";
import { readConfig, type Config } from "../config";
import type { Env } from "../env";
import type { JobRegistry } from "../jobs/registry";
import type { EventPage, JobErrorInfo, JobSnapshot, Json, TerminalState } from "../protocol";
import { runSlice, timedOut, type SliceOutcome } from "./engine";
import { EventLog } from "./event-log";
import { safeClose } from "../lib/websocket";
import { CLOSE, Fanout } from "./fanout";
import { isTerminal } from "../lib/job-state";
import { fromHex, sameBytes, sha256 } from "../lib/crypto";
import { JobStore, toSnapshot, type JobCosts, type JobRow } from "./storage";

export interface CreateJob {
  id: string;
  type: string;
  input: Json;
  timeoutMs: number;
  /** Hash of the create request; a retry with the same idempotency key must match it. */
  fingerprint: string;
  /** null: an anonymous visitor's job, controlled only by its control token. */
  owner: string | null;
  /** SHA-256 (hex) of the control token handed out once in the create answer. */
  controlHash: string;
}

/** What a caller presents to control (cancel, delete) a job. */
export interface ControlClaim {
  owner: string | null;
  controlToken: string | null;
}

export type CreateOutcome =
  | { status: "created" | "existing"; snapshot: JobSnapshot }
  | { status: "conflict"; snapshot: JobSnapshot };

/** Refusals shared by every control operation. */
type ControlRefusal = { status: "not_found" } | { status: "unauthorized" } | { status: "forbidden" };

export type CancelOutcome =
  | { status: "canceled"; snapshot: JobSnapshot }
  | { status: "conflict"; snapshot: JobSnapshot }
  | ControlRefusal;

export type EraseOutcome = { status: "erased" } | ControlRefusal;

/**
 * The object's RPC surface as callers see it. Declared here because the runtime's stub
 * type, recursing through the recursive Json type, exceeds TypeScript's instantiation
 * depth (TS2589) at the call sites.
 */
export type JobRpc = Remote<Pick<JobObject, "create" | "snapshot" | "events" | "cancel" | "erase" | "controls" | "costs" | "fetch">>;
type Remote<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never };

/** Extra time past a slice's budget before the watchdog alarm re-runs a slice that died. */
const WATCHDOG_GRACE_MS = 60_000;

export class JobObject extends DurableObject<Env> {
  /** The application's job types; the factory's subclass provides them (src/server.ts). */
  protected readonly types: JobRegistry | undefined = undefined;
  readonly #config: Config;
  readonly #store: JobStore;
  readonly #fanout: Fanout;
  readonly #events: EventLog;
  /** Aborts the slice that is running, if any, on cancel. */
  #running: AbortController | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = readConfig(env);
    this.#store = new JobStore(ctx.storage);
    this.#fanout = new Fanout(ctx);
    this.#events = new EventLog(this.#store, this.#config, (event) => this.#fanout.broadcast(event));
  }

  async create(request: CreateJob): Promise<CreateOutcome> {
    const existing = this.#store.job();
    if (existing) {
      const status = existing.fingerprint === request.fingerprint ? "existing" : "conflict";
      return { status, snapshot: this.#snapshot(existing) };
    }
    const now = Date.now();
    const job = this.#store.create({ ...request, createdAt: now, deadlineAt: now + request.timeoutMs });
    this.#events.append("state", { state: "queued" });
    await this.#arm(now);
    return { status: "created", snapshot: this.#snapshot(job) };
  }

  snapshot(): JobSnapshot | null {
    const job = this.#store.job();
    return job && this.#snapshot(job);
  }

  events(since: number, limit: number): EventPage | null {
    const job = this.#store.job();
    if (!job) return null;
    const events = this.#store.eventsAfter(since, limit);
    const lastSeq = this.#store.lastSeq();
    const nextSince = events.at(-1)?.seq ?? Math.min(since, lastSeq);
    return { events, nextSince, lastSeq, done: isTerminal(job.state) && nextSince >= lastSeq };
  }

  /** Whether the claim may cancel or delete this job: its owner, or its control token. */
  async controls(claim: ControlClaim): Promise<boolean> {
    const job = this.#store.job();
    return job !== null && (await checkClaim(job, claim)) === null;
  }

  async cancel(claim: ControlClaim): Promise<CancelOutcome> {
    const job = this.#store.job();
    if (!job) return { status: "not_found" };
    const refusal = await checkClaim(job, claim);
    if (refusal) return refusal;
    if (isTerminal(job.state)) return { status: "conflict", snapshot: this.#snapshot(job) };
    this.#running?.abort(new Error("The job was canceled"));
    await this.#finish("canceled", { error: { code: "canceled", message: "The job was canceled" } });
    return { status: "canceled", snapshot: this.snapshot()! };
  }

  /** Erases the job: its run stops, its subscribers are closed, its alarm and storage go. */
  async erase(claim: ControlClaim): Promise<EraseOutcome> {
    const job = this.#store.job();
    if (!job) return { status: "not_found" };
    const refusal = await checkClaim(job, claim);
    if (refusal) return refusal;
    this.#running?.abort(new Error("The job was deleted"));
    this.#events.discardProgress();
    this.#fanout.closeAll(CLOSE.normal, "job deleted");
    await this.#deleteStorage();
    return { status: "erased" };
  }

  /** The object's own accounting, for benchmarks. */
  costs(): JobCosts | null {
    return this.#store.exists() ? this.#store.costs() : null;
  }

  override async fetch(request: Request): Promise<Response> {
    const job = this.#store.job();
    if (!job) return Response.json({ error: { code: "not_found", message: "No such job" } }, { status: 404 });
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ error: { code: "upgrade_required", message: "Expected a WebSocket upgrade" } }, { status: 426 });
    }
    if (this.#fanout.count >= this.#config.maxSubscribers) {
      const message = `This job already has ${this.#config.maxSubscribers} live subscribers`;
      return Response.json({ error: { code: "too_many_subscribers", message } }, { status: 429 });
    }
    const since = Number(new URL(request.url).searchParams.get("since") ?? 0);
    const history = this.#store.eventsAfter(Number.isSafeInteger(since) && since > 0 ? since : 0, Number.MAX_SAFE_INTEGER);
    return this.#fanout.subscribe(this.#snapshot(job), history, isTerminal(job.state));
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.#fanout.rejectFrame(socket, message);
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    // Complete the closing handshake; 1005/1006 are reserved and may not be sent.
    safeClose(socket, code === 1005 || code === 1006 ? CLOSE.normal : code, reason);
  }

  override async alarm(): Promise<void> {
    const job = this.#store.job();
    if (!job) return;
    if (isTerminal(job.state)) return this.#expire(job);
    if (Date.now() >= job.deadline_at) return this.#apply(job, timedOut());
    const definition = this.types?.find(job.type);
    if (!definition) {
      const error = { code: "unknown_type", message: `Job type "${job.type}" is no longer registered` };
      return this.#apply(job, { kind: "failed", error });
    }
    const watchdog = Date.now() + this.#config.alarmBudgetMs + WATCHDOG_GRACE_MS;
    // A step may outlast the watchdog; never run two slices of one job at once.
    if (this.#running) return this.#arm(watchdog);
    await this.#arm(watchdog);
    this.#enter(job, "running");
    const running = (this.#running = new AbortController());
    try {
      const outcome = await runSlice({
        job, definition, store: this.#store, events: this.#events, signal: running.signal, budgetMs: this.#config.alarmBudgetMs,
      });
      await this.#apply(job, outcome);
    } finally {
      if (this.#running === running) this.#running = null;
    }
  }

  async #apply(job: JobRow, outcome: SliceOutcome): Promise<void> {
    if (isTerminal(this.#store.job()!.state)) return; // canceled while the slice ran
    switch (outcome.kind) {
      case "halted":
        return;
      case "succeeded":
        return this.#finish("succeeded", { result: outcome.result });
      case "failed":
        return this.#finish("failed", { error: outcome.error });
      case "suspended":
        this.#events.flushProgress();
        if (outcome.until > Date.now()) this.#enter(job, "waiting");
        return this.#arm(Math.min(outcome.until, job.deadline_at));
    }
  }

  /** Moves a live job to `state`, once, with its event. */
  #enter(job: JobRow, state: "running" | "waiting"): void {
    const current = this.#store.job()!.state;
    if (current === state) return;
    this.#store.updateJob(state === "running" && job.started_at === null ? { state, started_at: Date.now() } : { state });
    this.#events.append("state", { state });
  }

  async #finish(state: TerminalState, end: { result: Json } | { error: JobErrorInfo }): Promise<void> {
    this.#events.flushProgress();
    const now = Date.now();
    const expiresAt = now + this.#config.retentionMs;
    const outcome = "result" in end ? { result: JSON.stringify(end.result) } : { error: JSON.stringify(end.error) };
    this.#store.updateJob({ state, finished_at: now, expires_at: expiresAt, ...outcome });
    this.#events.append("state", { state });
    if ("result" in end) this.#events.append("result", { result: end.result });
    else this.#events.append("error", end.error);
    await this.#arm(expiresAt);
    this.#fanout.closeAll(CLOSE.normal, `job ${state}`);
  }

  /** Retention: a finished job's alarm deletes all of its storage once it expires. */
  async #expire(job: JobRow): Promise<void> {
    if (job.expires_at !== null && Date.now() < job.expires_at) return this.#arm(job.expires_at);
    this.#fanout.closeAll(CLOSE.normal, "job expired");
    await this.#deleteStorage();
  }

  async #deleteStorage(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#store.reset();
  }

  async #arm(at: number): Promise<void> {
    // Local workerd drops setAlarm(Date.now()) made inside alarm(); one ms later works.
    await this.ctx.storage.setAlarm(Math.max(at, Date.now() + 1));
    this.#store.countAlarm();
  }

  #snapshot(job: JobRow): JobSnapshot {
    return toSnapshot(job, this.#store.steps().values(), this.#store.lastSeq());
  }
}

/** null when the claim controls the job; owners by name, anyone else by the control token. */
async function checkClaim(job: JobRow, claim: ControlClaim): Promise<ControlRefusal | null> {
  if (claim.owner !== null && claim.owner === job.owner) return null;
  if (claim.controlToken !== null) {
    return sameBytes(await sha256(claim.controlToken), fromHex(job.control_hash)) ? null : { status: "forbidden" };
  }
  return claim.owner === null ? { status: "unauthorized" } : { status: "forbidden" };
}

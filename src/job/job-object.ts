// One Durable Object per job: platform entry points (RPC, fetch, alarm, webSocket*)
// that delegate to the store, the step engine, the event log and the fan-out.
import { DurableObject } from "cloudflare:workers";
import { readConfig, type Config } from "../config";
import type { Env } from "../env";
import type { JobRegistry } from "../jobs/registry";
import { fromHex, sameBytes, sha256 } from "../lib/crypto";
import { isTerminal } from "../lib/job-state";
import type { Budget, BudgetLimit, EventPage, JobErrorInfo, JobEvent, JobListing, JobSnapshot, Json, StepPage, TerminalState, WebhookStatus } from "../protocol";
import { limitExceeded, startSlice, timedOut, type RunningSlice, type SliceOutcome } from "./engine";
import { decideMissingType, waitingForType } from "./retry";
import { EventLog } from "./event-log";
import { CLOSE, Fanout, MAX_CLIENT_KEY, tooManySubscribers } from "../lib/fanout";
import { GONE_REASONS, isTerminalEvent, seenToEnd } from "../lib/job-state";
import { TextFormatter } from "../live/text";
import { jobFrames } from "./job-frames";
import { Reporter } from "./reporter";
import { afterAttempt, keptForMs, sendWebhook, webhookBody, webhookSignature, type WebhookRecord } from "./webhook";
import { webhookKeysOf } from "../access-config";
import { listingOf } from "../owners/listing";
import type { AdmitOutcome } from "../owners/owner-index";
import { admitJob, indexFor } from "../owners/shards";
import { stepPage, summarizeSteps } from "./steps";
import { JobStore, type JobRow } from "./storage";
import type { Remote } from "../lib/remote";

/** An events page stops near this many characters of stored JSON, however many events it has room for. */
export const EVENT_PAGE_CHARS = 1 << 20;

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
  budget: Budget;
  tags: string[];
  /** Where to send the completion webhook, already checked against WEBHOOK_ORIGINS. */
  webhookUrl: string | null;
  /** As the Worker stamped it, so the index and the job agree. */
  createdAt: number;
  /** The most queued, running or waiting jobs its owner may have (the Worker's MAX_ACTIVE_JOBS). */
  maxActiveJobs: number;
  /** Made with an Idempotency-Key: its id comes from the key, and retires with the job (see storage.ts). */
  keyed: boolean;
}

/** What a caller presents to control (cancel, delete) a job. */
export interface ControlClaim {
  owner: string | null;
  controlToken: string | null;
}

export type CreateOutcome =
  | { status: "created" | "existing"; snapshot: JobSnapshot }
  | { status: "conflict"; snapshot: JobSnapshot }
  /** The owner has as many active jobs as it may. */
  | { status: "full" }
  /** The job this id (an Idempotency-Key's) was made for is gone: the key is spent. */
  | { status: "retired" }
  /** The owner's index could not be asked to admit the job, which ended unrun: try again. */
  | { status: "unavailable" };

/** Refusals shared by every control operation. */
type ControlRefusal = { status: "not_found" } | { status: "unauthorized" } | { status: "forbidden" };

export type CancelOutcome =
  | { status: "canceled"; snapshot: JobSnapshot }
  | { status: "conflict"; snapshot: JobSnapshot }
  | ControlRefusal;

/** `unavailable`: the owner's index could not be told, so nothing was erased; try again. */
export type EraseOutcome = { status: "erased" } | { status: "unavailable" } | ControlRefusal;

/**
 * The object's RPC surface as callers see it. Declared here because the runtime's stub
 * type, recursing through the recursive Json type, exceeds TypeScript's instantiation
 * depth (TS2589) at the call sites.
 */
export type JobRpc = Remote<Pick<JobObject, "create" | "snapshot" | "events" | "steps" | "cancel" | "erase" | "controls" | "fetch">>;

/** Extra time past a slice's budget before the watchdog alarm re-runs a slice that died. */
const WATCHDOG_GRACE_MS = 60_000;
/** An erase (an expiry, or a delete a crash cut short) whose index could not be told is tried again this much later. */
const REMOVAL_RETRY_MS = 60_000;
/**
 * An SSE viewer is served by the object itself (a direct stream) while the job's next
 * alarm is at most this far off, and direct streams are handed off to the Worker's
 * bridge when the job is to wait longer: then the object may hibernate (after about ten
 * seconds of quiet on Cloudflare), which an open stream forbids. A shorter wait is not
 * worth making every viewer reconnect (a request each, a snapshot, the `retry` delay).
 */
export const DIRECT_WAIT_MS = 30_000;
const JOB_FORMATS = ["json", "sse", "text"] as const;
/** Log rows read back, at most, to find a text viewer's columns (past them a column shows "-"). */
const COLUMN_ROWS = 1_000;

export class JobObject extends DurableObject<Env> {
  /** The application's job types; the factory's subclass provides them (src/server.ts). */
  protected readonly types: JobRegistry | undefined = undefined;
  readonly #config: Config;
  readonly #store: JobStore;
  readonly #fanout: Fanout<JobSnapshot, JobEvent, TextFormatter | null>;
  #log: EventLog | null = null;
  /** The slice that is running, if any: aborted by cancel and delete, ended by a budget. */
  #running: { slice: RunningSlice; abort: AbortController } | null = null;
  /** Keeps the owner's index current; none for an anonymous visitor's job. */
  #reporter: Reporter | null | undefined = undefined;
  /** The next alarm set is in the usage already (counted ahead by #finish). */
  #alarmCounted = false;
  /** While an alarm runs: since when its time awake is not yet in the usage. */
  #awakeSince: number | null = null;
  /** The slice ended into a long wait: its direct streams were handed off, and new viewers are bridged. */
  #waitingLong = false;
  /** A create's admission into the owner's index, while it is under way (it never rejects). */
  #admitting: Promise<void> | null = null;
  /** A delete's removal from the owner's index, while it is under way. */
  #removing: Promise<boolean> | null = null;
  /** Meanwhile: the expiry that delete marked the job with, and the one it restores if the index cannot be told. */
  #deleteMark: { at: number; was: number | null } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = readConfig(env);
    this.#store = new JobStore(ctx.storage);
    const source = {
      lastSeq: () => this.#store.lastSeq(),
      entriesAfter: (since: number, limit: number, maxChars: number) => this.#store.eventsAfter(since, limit, maxChars),
      ended: () => {
        const job = this.#store.job();
        return job === null || isTerminal(job.state);
      },
      isLast: isTerminalEvent,
    };
    this.#fanout = new Fanout(ctx, source, jobFrames((seq) => TextFormatter.after(this.#store.eventsBackFrom(seq, COLUMN_ROWS))));
  }

  async create(request: CreateJob): Promise<CreateOutcome> {
    this.#count();
    // A create of this id (a retry with the same key) still being admitted: its outcome first
    // (and again while another waiter made the job anew: its admission may unmake it too).
    while (this.#admitting) await this.#admitting;
    const found = this.#existing(request);
    if (found) return found;
    if (this.#store.retired()) return { status: "retired" };
    const indexShards = this.#config.indexShards;
    const webhook: WebhookRecord | null = request.webhookUrl === null ? null : { url: request.webhookUrl, state: "pending", attempts: 0, next: null };
    // The job is made before its owner's index is asked to admit it, so the job's own
    // storage is its outbox from the start: a crash while the index admits it leaves a
    // job whose alarm lists it when it runs, never a listing without a job (which would
    // stay "queued", count against the cap and refuse every delete, for good).
    const job = this.#store.create({
      ...request, webhook: webhook && JSON.stringify(webhook), deadlineAt: request.createdAt + request.timeoutMs, indexShards: request.owner === null ? null : indexShards,
    });
    // Its first event's report must not reach the index before its admission (see Reporter.now).
    this.#reporterOf(job)?.admitting();
    const log = this.#events(job);
    log.startEmpty();
    log.append("state", { state: "queued" }, true);
    log.flush();
    const admission = this.#admit(job, request, indexShards);
    this.#admitting = admission.then(() => undefined, () => undefined);
    try {
      return await admission;
    } finally {
      this.#admitting = null;
    }
  }

  /**
   * Arms the new job's first alarm and, for an owner's job, admits it into the owner's
   * index, where the cap on active jobs is held; a job the index refuses is unmade, and one
   * whose admission stays unknown ends unrun.
   */
  async #admit(job: JobRow, request: CreateJob, indexShards: number): Promise<CreateOutcome> {
    // What the admission lists: the job as made, queued (a change during the awaits below is
    // reported after the answer).
    const listed = this.#store.lastSeq();
    await this.#arm(Date.now());
    const owner = request.owner;
    if (owner !== null) {
      // The job is durable before the index hears of it (a listing must not outlive a crash):
      // the output gate holds the admission's call until the writes above are.
      const admit = () => admitJob(this.env, { maxActiveJobs: request.maxActiveJobs, indexShards }, owner, request);
      let outcome: AdmitOutcome;
      try {
        // Asked twice at most: an admission is idempotent (again, it answers "existing"), and
        // one whose answer was lost (the index restarted after storing it, as in a deploy)
        // must not leave a listing without a job.
        outcome = await admit().catch((error: unknown) => {
          console.warn("admission to the owner's index failed; asking again", error);
          return admit();
        });
      } catch (error) {
        console.warn("admission to the owner's index failed twice; the job ends unrun", error);
        this.#reporterOf(job)?.admitted(0);
        // Unknown whether the index holds it: unmade, the job could leave a listing without
        // a job ("queued" for good, counted against the cap); run, it could pass the cap. It
        // ends unrun instead, and its end's report (retried by its alarm) lists it as failed.
        await this.#finish(job, "failed", {
          error: { code: "not_admitted", message: notAdmitted(request.keyed) },
        });
        return { status: "unavailable" };
      }
      if (outcome === "full" || outcome === "retired") {
        await this.#deleteStorage(false);
        return { status: outcome };
      }
      this.#reporterOf(job)?.admitted(listed);
    }
    return { status: "created", snapshot: this.#snapshot(job, null) };
  }

  /** An idempotent retry's answer, if the job is here already. */
  #existing(request: CreateJob): CreateOutcome | null {
    const job = this.#store.job();
    if (!job) return null;
    // Past its expiry, only its alarm has yet to erase it: its key is spent already.
    if (!this.#readable()) return { status: "retired" };
    return { status: job.fingerprint === request.fingerprint ? "existing" : "conflict", snapshot: this.#snapshot(job, null) };
  }

  /** The job as anyone with its link sees it; its owner also sees `usage`. */
  snapshot(owner: string | null = null): JobSnapshot | null {
    this.#count();
    return this.snapshotOf(owner);
  }

  protected snapshotOf(owner: string | null): JobSnapshot | null {
    const job = this.#readable();
    return job && this.#snapshot(job, owner);
  }

  /**
   * The job as its readers see it: none once it is past its expiry, though its storage is
   * erased only by an alarm, which may come late (after an outage, or while its owner's
   * index cannot be told): it answered 200, and a retry of its key "existing". A delete
   * under way marks it to expire now, yet may fail and restore its expiry: until the delete
   * is done, the job reads as it was (it answered 410, then 200 again). One whose delete a
   * crash cut short has no mark here: its alarm finishes the erase.
   */
  #readable(): JobRow | null {
    const job = this.#store.job();
    if (!job) return null;
    const mark = this.#deleteMark;
    const expiresAt = mark !== null && job.expires_at === mark.at ? mark.was : job.expires_at;
    return expiresAt === null || Date.now() < expiresAt ? job : null;
  }

  events(since: number, limit: number): EventPage | null {
    this.#count();
    const job = this.#readable();
    if (!job) return null;
    const events = this.#store.eventsAfter(since, limit, EVENT_PAGE_CHARS);
    const lastSeq = this.#store.lastSeq();
    const nextSince = events.at(-1)?.seq ?? Math.min(since, lastSeq);
    return { events, nextSince, lastSeq, done: isTerminal(job.state) && nextSince >= lastSeq };
  }

  steps(after: number, limit: number): StepPage | null {
    this.#count();
    const job = this.#readable();
    return job && stepPage([...this.#events(job).steps().values()], after, limit);
  }

  /** Whether the claim may cancel or delete this job: its owner, or its control token. */
  async controls(claim: ControlClaim): Promise<boolean> {
    this.#count(); // a call like any other: billed, so in `usage`
    const job = this.#store.job();
    return job !== null && (await checkClaim(job, claim)) === null;
  }

  async cancel(claim: ControlClaim): Promise<CancelOutcome> {
    this.#count();
    const found = this.#readable();
    if (!found) return { status: "not_found" };
    const refusal = await checkClaim(found, claim);
    if (refusal) return refusal;
    // A job waiting long has its alarm far off: #finish brings it near for the index's sake.
    const alarm = found.owner === null ? null : await this.ctx.storage.getAlarm();
    // Read again: the job may have ended, or been deleted, while this call waited.
    const job = this.#readable();
    if (!job) return { status: "not_found" };
    if (isTerminal(job.state)) return { status: "conflict", snapshot: this.#snapshot(job, null) };
    this.#running?.abort.abort(new Error("The job was canceled"));
    await this.#finish(job, "canceled", { error: { code: "canceled", message: "The job was canceled" } }, alarm);
    // The job as it ended (with a RETENTION of 0 it has expired already; its alarm may even have erased it).
    const ended = this.#store.job();
    return ended ? { status: "canceled", snapshot: this.#snapshot(ended, claim.owner) } : { status: "not_found" };
  }

  /** Erases the job: its run stops, its subscribers are closed, its alarm and storage go. */
  async erase(claim: ControlClaim): Promise<EraseOutcome> {
    this.#count();
    while (this.#admitting) await this.#admitting; // the index hears of the job before it hears of its removal
    const found = this.#store.job();
    if (!found) return { status: "not_found" };
    const refusal = await checkClaim(found, claim);
    if (refusal) return refusal;
    const reporter = this.#reporterOf(found);
    if (reporter && !(await this.#removeFromIndex(reporter))) return { status: "unavailable" };
    this.#running?.abort.abort(new Error("The job was deleted"));
    this.#fanout.closeAll(CLOSE.normal, GONE_REASONS.deleted);
    await this.#deleteStorage(found.keyed !== 0);
    return { status: "erased" };
  }

  /**
   * Tells the owner's index the job is being erased; false, with nothing changed, when it
   * cannot be told. Before it is told, the job is marked to expire now, with an alarm: a
   * crash from then on leaves that alarm to finish the erase (#afterEnd), never a job that
   * runs on while its owner's list has dropped it. One at a time: a second delete meanwhile
   * gets the first's answer (it would take the first's mark for how the job was).
   */
  #removeFromIndex(reporter: Reporter): Promise<boolean> {
    this.#removing ??= this.#markAndRemove(reporter).finally(() => (this.#removing = null));
    return this.#removing;
  }

  async #markAndRemove(reporter: Reporter): Promise<boolean> {
    const alarm = await this.ctx.storage.getAlarm();
    const job = this.#store.job();
    if (!job) return true; // erased meanwhile
    const marker = Date.now();
    this.#deleteMark = { at: marker, was: job.expires_at };
    try {
      this.#store.updateJob({ expires_at: marker });
      await this.ctx.storage.setAlarm(marker + this.#watchdogMs);
      // The output gate holds the removal until the mark and its alarm are durable.
      if (await reporter.removed(job.id)) return true;
      // As it was, unless the job ended meanwhile (its end set its own expiry and alarm).
      if (this.#store.job()?.expires_at === marker) {
        this.#store.updateJob({ expires_at: job.expires_at });
        await (alarm === null ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(alarm));
      }
      return false;
    } finally {
      this.#deleteMark = null;
    }
  }

  /**
   * A subscription: `?since=N&format=json|sse|text&client=<key>[&resume][&direct][&batch]`, from
   * the Worker, answered on a WebSocket — or, for `direct` SSE and text while the job is
   * busy, on a stream of the response (see DIRECT_WAIT_MS). `?handoff=<id>`: the rest of a
   * handed-off text stream, for the Worker to continue it (see `Fanout.continueHandOff`).
   */
  override async fetch(request: Request): Promise<Response> {
    this.#count();
    const job = this.#readable();
    if (!job) return Response.json({ error: { code: "not_found", message: "No such job" } }, { status: 404 });
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ error: { code: "upgrade_required", message: "Expected a WebSocket upgrade" } }, { status: 426 });
    }
    const params = new URL(request.url).searchParams;
    // A continuation: its viewer was admitted with the stream it continues.
    const handOff = params.get("handoff");
    if (handOff !== null) return this.#fanout.continueHandOff(handOff);
    const since = Math.max(0, Number(params.get("since")) || 0);
    const format = JOB_FORMATS.find((f) => f === params.get("format")) ?? "json";
    const client = (params.get("client") ?? "").slice(0, MAX_CLIENT_KEY) || "unknown";
    // An EventSource reconnecting to a job whose end it saw gets 204, which stops its retries.
    if (params.has("resume") && seenToEnd({ state: job.state, lastSeq: this.#store.lastSeq() }, since)) return new Response(null, { status: 204 });
    const refusal = this.#fanout.admit(client, { total: this.#config.maxSubscribers, perClient: this.#config.maxSubscribersPerClient });
    if (refusal) {
      const message = refusal === "too_many"
        ? `This job already has ${this.#config.maxSubscribers} live subscribers`
        : `You already have ${this.#config.maxSubscribersPerClient} live subscribers on this job`;
      return tooManySubscribers(message);
    }
    if (params.has("probe")) return new Response(null, { status: 200 });
    const snapshot = this.#snapshot(job, null);
    if (format !== "json" && params.has("direct") && (await this.#busy(job))) return this.#fanout.subscribeStream(snapshot, since, format, client);
    return this.#fanout.subscribe(snapshot, since, format, client, format === "json" && params.has("batch"));
  }

  /** Awake now or soon anyway: running a slice, or its alarm near. (An ended job's replay is bridged: its reader sets the pace.) */
  async #busy(job: JobRow): Promise<boolean> {
    if (isTerminal(job.state) || this.#waitingLong) return false;
    if (this.#running !== null) return true;
    const alarm = await this.ctx.storage.getAlarm();
    return alarm !== null && alarm - Date.now() <= DIRECT_WAIT_MS;
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.#store.count("message");
    this.#fanout.message(socket, message);
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    this.#fanout.hungUp(socket, code, reason);
  }

  override async webSocketError(socket: WebSocket): Promise<void> {
    this.#fanout.closed(socket);
  }

  override async alarm(): Promise<void> {
    this.#count();
    this.#awakeSince = Date.now();
    try {
      await this.#alarm();
    } finally {
      this.#countAwake();
      this.#awakeSince = null;
    }
  }

  /** Adds the time this alarm has been running so far to the usage. */
  #countAwake(): void {
    if (this.#awakeSince === null) return;
    const now = Date.now();
    this.#store.addAwake(now - this.#awakeSince);
    this.#awakeSince = now;
  }

  async #alarm(): Promise<void> {
    // The first alarm, armed with the job, waits for its admission, which may unmake it.
    while (this.#admitting) await this.#admitting;
    const job = this.#store.job();
    if (!job) return;
    // A live job with an expiry was being erased when the object stopped (see #removeFromIndex).
    if (isTerminal(job.state) || job.expires_at !== null) return this.#afterEnd(job);
    // After a restart the index may have missed a report: the alarm is the outbox's retry.
    const reporter = this.#reporterOf(job);
    await reporter?.now();
    if (!this.#live()) return; // canceled or deleted while the index was told
    if (Date.now() >= job.deadline_at) return this.#apply(job, timedOut());
    const definition = this.types?.find(job.type);
    if (!definition) {
      const missing = decideMissingType({ type: job.type, started: job.started_at !== null, createdAt: job.created_at, now: Date.now(), deadline: job.deadline_at });
      if (missing.kind === "wait") {
        // Left queued, as it is: nothing of it has run; its viewers are told why once (its log
        // holds only its queued state until then). A long wait's viewers are bridged, as a sleep's are.
        if (this.#store.lastSeq() === 1) {
          this.#events(job).append("log", { level: "warn", message: waitingForType(job.type) }, true);
          this.#events(job).flush();
        }
        this.#waitUntil(missing.at);
        return this.#arm(missing.at);
      }
      return this.#apply(job, { kind: "failed", error: { code: "unknown_type", message: missing.message } });
    }
    const watchdog = Date.now() + this.#watchdogMs;
    // A step may outlast the watchdog; never run two slices of one job at once.
    if (this.#running) return this.#arm(watchdog);
    await this.#arm(watchdog);
    this.#waitingLong = false;
    this.#enter(job, "running");
    const abort = new AbortController();
    const slice = startSlice({
      job, definition, store: this.#store, events: this.#events(job), signal: abort.signal,
      budgetMs: this.#config.alarmBudgetMs, maxSteps: (JSON.parse(job.budget) as Budget).steps,
    });
    const running = (this.#running = { slice, abort });
    try {
      await this.#apply(job, await slice.outcome);
    } finally {
      if (this.#running === running) this.#running = null;
    }
  }

  async #apply(job: JobRow, outcome: SliceOutcome): Promise<void> {
    const current = this.#store.job();
    if (outcome.kind === "stopped" || current === null || isTerminal(current.state)) return; // canceled or deleted meanwhile
    switch (outcome.kind) {
      case "succeeded":
        return this.#finish(job, "succeeded", { result: outcome.result });
      case "failed":
        return this.#finish(job, "failed", { error: outcome.error });
      case "suspended": {
        // The wait's own state goes in the slice's last write: written and sent before the wait.
        if (outcome.until > Date.now()) this.#enter(job, "waiting");
        this.#events(job).flush();
        const at = Math.min(outcome.until, job.deadline_at);
        // A viewer that comes while this slice winds down is bridged too (the slice still counts as running).
        this.#waitUntil(at);
        // The index hears of the wait before the alarm moves to its end: after a crash the
        // alarm is what reports again, and a long wait's would leave the owner's list a
        // state behind until then. A report that failed left its retry's alarm, nearer.
        if (at - Date.now() > this.#watchdogMs) {
          if (!(await (this.#reporterOf(job)?.now() ?? true)) || !this.#live()) return;
        }
        return this.#arm(at);
      }
    }
  }

  /** The job waits until `at`: before a long wait, direct viewers are handed off and new ones bridged, so the object may hibernate. */
  #waitUntil(at: number): void {
    this.#waitingLong = at - Date.now() > DIRECT_WAIT_MS;
    if (this.#waitingLong) this.#fanout.handOff();
  }

  /**
   * Whether the job is still live after an await: not ended (a cancel), erased, nor being
   * erased. One canceled or deleted meanwhile has set its own alarm (or none), which must stay.
   */
  #live(): boolean {
    const job = this.#store.job();
    return job !== null && !isTerminal(job.state) && job.expires_at === null;
  }

  /**
   * How far off a slice's watchdog alarm is: how long a crash may keep a job from running
   * on, and, past a report the crash cut short, its owner's index from hearing of it.
   */
  get #watchdogMs(): number {
    return this.#config.alarmBudgetMs + WATCHDOG_GRACE_MS;
  }

  /** Moves a live job to `state`, once, with its event. */
  #enter(job: JobRow, state: "running" | "waiting"): void {
    if (this.#store.job()!.state === state) return;
    this.#store.updateJob(state === "running" && job.started_at === null ? { state, started_at: Date.now() } : { state });
    this.#events(job).append("state", { state }, true);
  }

  /** An ended job's steps that were still running, waiting or sleeping (canceled, timed out, over a budget) read canceled. */
  #settleSteps(job: JobRow): void {
    const log = this.#events(job);
    const now = Date.now();
    for (const step of log.steps().values()) {
      if (step.state !== "running" && step.state !== "waiting" && step.state !== "sleeping") continue;
      log.saveStep({ ...step, state: "canceled", until: null, finishedAt: now }, { name: step.name, status: "canceled", attempt: step.attempts }, null, true);
    }
  }

  /** `alarmAt`: when the job's alarm was due, for a cancel (an alarm's own slice has its watchdog near). */
  async #finish(job: JobRow, state: TerminalState, end: { result: Json } | { error: JobErrorInfo }, alarmAt: number | null = null): Promise<void> {
    const log = this.#events(job);
    const now = Date.now();
    // Until the owner's index has heard of the end, the alarm is what tells it again after a
    // crash: one left at a long wait's end (a cancel while the job sleeps for days) would
    // leave the owner's list showing the job waiting, and counting as active, until then.
    const reportBy = now + this.#watchdogMs;
    const nearer = job.owner !== null && alarmAt !== null && alarmAt > reportBy;
    const expiresAt = now + keptForMs(this.#config.retentionMs, job.webhook !== null);
    const outcome = "result" in end ? { result: JSON.stringify(end.result) } : { error: JSON.stringify(end.error) };
    this.#settleSteps(job);
    log.append("state", { state }, true);
    if ("result" in end) log.append("result", { result: end.result }, true);
    else log.append("error", end.error, true);
    log.flush();
    // Direct viewers that had everything were ended by the terminal event; one still
    // reading the history goes on bridged, where the object may sleep while it reads.
    this.#fanout.handOff();
    // The job row last, in the same turn as the end's events (no request comes between),
    // so the usage it stores is the whole run's: the end's row, the time awake, and the
    // next alarm, counted ahead (retention, the webhook at once, or a report's retry; and
    // the near one first, for a cancel that ends a long wait).
    this.#countAwake();
    this.#store.count("alarm");
    if (nearer) this.#store.count("alarm");
    this.#alarmCounted = true;
    this.#store.updateJob({ state, finished_at: now, expires_at: expiresAt, ...outcome });
    // Set in the same turn as the end's writes, so stored with them.
    if (nearer) await this.ctx.storage.setAlarm(reportBy);
    // The index hears of the end before the retention alarm replaces the one that would
    // retry it; if it cannot be told now, that earlier alarm stays (see #afterEnd).
    if (await (this.#reporterOf(job)?.now() ?? true)) await this.#arm(job.webhook === null ? expiresAt : Date.now());
  }

  /**
   * A finished job's alarm: the index is told of its end, its webhook is delivered (or
   * retried), and once it expires, its storage is deleted (so too a live job's whose erase
   * a crash cut short).
   */
  async #afterEnd(job: JobRow): Promise<void> {
    const reporter = this.#reporterOf(job);
    if (job.expires_at !== null && Date.now() < job.expires_at) {
      if (reporter && !(await reporter.now())) return;
      const webhook = job.webhook === null ? null : (JSON.parse(job.webhook) as WebhookRecord);
      if (webhook?.state === "pending") return this.#sendWebhook(job, webhook);
      return this.#arm(job.expires_at);
    }
    // The index must hear of the removal first: tried again by an alarm of its own (one that
    // throws is retried by the platform only a few times, about two minutes, then dropped).
    if (reporter && !(await reporter.removed(job.id))) return this.#arm(Date.now() + REMOVAL_RETRY_MS);
    this.#fanout.closeAll(CLOSE.normal, GONE_REASONS.expired);
    await this.#deleteStorage(job.keyed !== 0);
  }

  /** One attempt at the completion webhook, when it is due; then the next alarm: a retry, or retention. */
  async #sendWebhook(job: JobRow, webhook: WebhookRecord): Promise<void> {
    const now = Date.now();
    if (webhook.next !== null && webhook.next > now) return this.#arm(webhook.next);
    const keys = webhookKeysOf(this.env);
    const body = webhookBody({
      id: job.id, type: job.type, state: job.state, tags: JSON.parse(job.tags) as string[],
      result: job.result === null ? null : (JSON.parse(job.result) as Json), error: job.error === null ? null : (JSON.parse(job.error) as JobErrorInfo),
      createdAt: job.created_at, startedAt: job.started_at, finishedAt: job.finished_at,
    }, now);
    const id = `msg_${job.id}`;
    const timestamp = Math.floor(now / 1000);
    const result = keys.length === 0
      ? { ok: false as const, error: "webhooks are not configured on this deployment (WEBHOOK_SECRET)", final: true }
      : await sendWebhook(webhook.url, { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": await webhookSignature(keys, id, timestamp, body) }, body);
    // Deleted while the attempt was on its way (a slow receiver has up to its timeout):
    // there is nothing left to record it in, nor any retry to arm.
    if (this.#store.job() === null) return;
    const next = afterAttempt(webhook, result, Date.now());
    this.#store.updateJob({ webhook: JSON.stringify(next.record) });
    // Bounded by the attempts: recorded past the job's budget, like its end.
    this.#events(job).append("webhook", next.event, true);
    this.#events(job).flush();
    await this.#arm(next.record.next ?? job.expires_at ?? Date.now());
  }

  /** `retire`: the job was deleted or expired (not unmade by a refused admission): a keyed id stays retired. */
  async #deleteStorage(retire: boolean): Promise<void> {
    this.#log?.discard();
    this.#log = null;
    this.#reporter?.stop();
    this.#reporter = undefined;
    this.#alarmCounted = false;
    await this.ctx.storage.deleteAlarm();
    // A keyed job's id stays retired (see storage.ts); any other object is left with nothing.
    // A row written before the `keyed` column existed may have been keyed: retired too
    // (an id that was random is never asked for again, so its marker costs one row).
    if (retire) return this.#store.retire(Date.now());
    await this.ctx.storage.deleteAll();
    this.#store.reset();
  }

  async #arm(at: number): Promise<void> {
    // Deleted while the caller waited (on the index, a webhook's receiver): nothing to wake.
    if (this.#store.job() === null) return;
    // Local workerd drops setAlarm(Date.now()) made inside alarm(); one ms later works.
    await this.ctx.storage.setAlarm(Math.max(at, Date.now() + 1));
    if (this.#alarmCounted) this.#alarmCounted = false;
    else this.#store.count("alarm");
  }

  /** The job's log writer, made once per incarnation with the job's own budget. */
  #events(job: JobRow): EventLog {
    this.#log ??= new EventLog(
      this.#store,
      { windowMs: this.#config.batchWindowMs, budget: JSON.parse(job.budget) as Budget },
      (events) => {
        this.#fanout.broadcast(events);
        if (events.some((event) => event.type !== "log" && event.type !== "step")) this.#reporterOf(job)?.changed();
      },
      (limit) => this.#onLimit(job, limit),
    );
    return this.#log;
  }

  /** A budget ran out: the running slice ends, and the job fails naming the limit. */
  #onLimit(job: JobRow, limit: BudgetLimit): void {
    this.#running?.slice.end(limitExceeded(limit, (JSON.parse(job.budget) as Budget)[limit]));
  }

  #reporterOf(job: JobRow): Reporter | null {
    const owner = job.owner;
    this.#reporter ??= owner === null ? null : new Reporter({
      // The shard count the job was admitted under: a deploy that changes INDEX_SHARDS
      // must not move it to another shard (listed twice, and forever active in the first).
      index: () => indexFor(this.env, owner, job.id, job.index_shards ?? this.#config.indexShards),
      current: () => {
        const current = this.#store.job();
        return current && { listing: this.#listing(current), seq: this.#store.lastSeq() };
      },
      wakeBy: async (at) => {
        const alarm = await this.ctx.storage.getAlarm();
        if (alarm === null || alarm > at) await this.#arm(at);
      },
    });
    return this.#reporter;
  }

  #listing(job: JobRow): JobListing {
    return listingOf({
      id: job.id, type: job.type, state: job.state, tags: JSON.parse(job.tags) as string[],
      progress: this.#store.latestProgress(), error: job.error === null ? null : (JSON.parse(job.error) as JobErrorInfo),
      createdAt: job.created_at, startedAt: job.started_at, finishedAt: job.finished_at,
    });
  }

  #count(): void {
    this.#store.count("request");
  }

  #snapshot(job: JobRow, owner: string | null): JobSnapshot {
    const log = this.#events(job);
    const isOwner = owner !== null && owner === job.owner;
    return {
      id: job.id,
      type: job.type,
      tags: JSON.parse(job.tags) as string[],
      state: job.state,
      input: JSON.parse(job.input) as Json,
      progress: this.#store.latestProgress(),
      steps: summarizeSteps(log.steps().values()),
      result: job.result === null ? null : (JSON.parse(job.result) as Json),
      error: job.error === null ? null : (JSON.parse(job.error) as JobErrorInfo),
      createdAt: job.created_at,
      startedAt: job.started_at,
      finishedAt: job.finished_at,
      deadlineAt: job.deadline_at,
      expiresAt: job.expires_at,
      lastSeq: this.#store.lastSeq(),
      budget: JSON.parse(job.budget) as Budget,
      viewers: this.#fanout.count,
      webhook: job.webhook === null ? null : webhookStatus(JSON.parse(job.webhook) as WebhookRecord, isOwner),
      ...(isOwner ? { usage: this.#store.usage() } : {}),
    };
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

function webhookStatus({ url, state, attempts }: WebhookRecord, isOwner: boolean): WebhookStatus {
  return { ...(isOwner ? { url } : {}), state, attempts };
}

/** Why a job ended unrun: its owner's index could not admit it. A keyed job stays its key's job, so a retry needs a new key. */
function notAdmitted(keyed: boolean): string {
  const again = keyed ? "try again with a new Idempotency-Key" : "try again";
  return `The owner's job list could not be reached to admit this job, so it did not run; ${again}`;
}

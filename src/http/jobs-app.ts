// /jobs: create, then per job (by its id) status, events, live streams and control.
// The id is the watch capability; cancel and delete need the owner or the control token.
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { getCookie } from "hono/cookie";
import type { ControlClaim } from "../job/job-object";
import { jobStub } from "../service/create";
import { wantsEventStream, wantsHtml } from "./accept";
import type { AppEnv } from "./app-env";
import { createJob, submitJob } from "./create-route";
import { dashboardReturn } from "./dashboard-routes";
import { listJobs } from "./list-route";
import { ApiError, gone, notFound } from "./errors";
import { MAX_STEP_PAGE } from "../job/steps";
import { isGenuineJobId } from "./job-id";
import { jobUrls } from "./job-urls";
import { liveRoutes, liveResponse } from "./live-routes";
import { isFormPost, jobPageResponse } from "./pages";
import { intParam, singleQueryValues } from "./query";
import { requireConfigured } from "./security";
import { unauthorized } from "./auth";

/** Events per page of /events (and the page's characters are bounded by the object, EVENT_PAGE_CHARS). */
export const MAX_EVENT_PAGE = 1_000;

/** The header, or the per-job cookie set on a browser's create, that carries a control token. */
export const CONTROL_HEADER = "Control-Token";
export const CONTROL_COOKIE = "control";

export function jobsApp(): Hono<AppEnv> {
  const jobs = new Hono<AppEnv>();
  jobs.use(requireConfigured, singleQueryValues);

  jobs.post("/", createJob);
  jobs.get("/", listJobs);

  // Every /jobs/:id route: refuse forged ids here, without addressing any object.
  for (const path of ["/:id", "/:id/*"]) {
    jobs.use(path, async (c, next) => {
      const id = c.req.param("id") ?? "";
      if (!(await isGenuineJobId(c.var.access.jobIdSecrets, id))) throw notFound();
      c.set("jobId", id);
      c.set("job", jobStub(c.env, id));
      await next();
    });
  }

  jobs.get("/:id", async (c) => {
    const principal = c.var.principal;
    const snapshot = await c.var.job.snapshot(principal.kind === "owner" ? principal.owner : null);
    // A genuine id is one this deployment minted for a job: if none is there, it is gone.
    if (!snapshot) throw gone();
    if (wantsHtml(c)) return jobPageResponse(c, snapshot, jobUrls(c, snapshot.id), await c.var.job.controls(claimOf(c)));
    return c.json(snapshot);
  });

  jobs.get("/:id/events", async (c) => {
    if (wantsEventStream(c)) return liveResponse(c, c.var.job, "sse", { direct: true });
    const since = intParam(c, "since", 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(c, "limit", 100, 1, MAX_EVENT_PAGE);
    const page = await c.var.job.events(since, limit);
    if (!page) throw gone();
    return c.json(page);
  });

  jobs.route("/", liveRoutes());

  /** Every step, a page at a time: `after` is the last position seen (-1 to start). */
  jobs.get("/:id/steps", async (c) => {
    const after = intParam(c, "after", -1, -1, Number.MAX_SAFE_INTEGER - 1, /^-?\d{1,16}$/);
    const limit = intParam(c, "limit", 100, 1, MAX_STEP_PAGE);
    const page = await c.var.job.steps(after, limit);
    if (!page) throw gone();
    return c.json(page);
  });

  jobs.post("/:id/cancel", async (c) => {
    const outcome = await c.var.job.cancel(claimOf(c));
    if (outcome.status !== "canceled" && outcome.status !== "conflict") throw controlRefusal(outcome.status);
    // A form (it works without JavaScript) goes back to its page, which shows the outcome.
    if (isFormPost(c)) return c.redirect(await formReturn(c) ?? jobUrls(c, c.var.jobId).page, 303);
    if (outcome.status === "conflict") {
      throw alreadyFinished(outcome.snapshot.state);
    }
    return c.json(outcome.snapshot);
  });

  /** Run again: a new job of the same type, input and tags, for the job's owner. */
  jobs.post("/:id/rerun", async (c) => {
    const principal = c.var.principal;
    if (principal.kind !== "owner") throw unauthorized("Running a job again needs its owner's credentials");
    const snapshot = await c.var.job.snapshot(principal.owner);
    if (!snapshot) throw gone();
    if (!(await c.var.job.controls({ owner: principal.owner, controlToken: null }))) {
      throw new ApiError(403, "forbidden", "Only the job's owner may run it again");
    }
    const definition = c.var.types.find(snapshot.type);
    if (!definition) throw new ApiError(409, "unknown_type", "This job's type is no longer offered");
    const checked = await definition.input["~standard"].validate(snapshot.input);
    if (checked.issues) throw new ApiError(409, "invalid_input", "This job's input no longer fits its type's schema");
    const timeoutMs = snapshot.deadlineAt - snapshot.createdAt;
    const webhookUrl = snapshot.webhook?.url ?? null;
    return submitJob(c, { type: snapshot.type, definition, input: snapshot.input, timeoutMs, tags: snapshot.tags, webhookUrl, fromForm: isFormPost(c) });
  });

  jobs.delete("/:id", async (c) => {
    const outcome = await c.var.job.erase(claimOf(c));
    if (outcome.status !== "erased") throw controlRefusal(outcome.status);
    return c.body(null, 204);
  });
  return jobs;
}

/** Who asks to control the job: an owner, and/or whoever holds its control token. */
export function claimOf(c: Context<AppEnv>): ControlClaim {
  const principal = c.var.principal;
  const token = c.req.header(CONTROL_HEADER) ?? getCookie(c, CONTROL_COOKIE);
  // Tokens are 43 characters: a longer one is wrong, and stays wrong cut short (403, as any wrong token), without hashing kilobytes.
  return { owner: principal.kind === "owner" ? principal.owner : null, controlToken: token ? token.slice(0, 100) : null };
}

export const alreadyFinished = (state: string) =>
  new ApiError(409, "already_finished", `The job has ended (${state}); only a queued, running or waiting job can be canceled`);

/** A control operation (cancel, delete) the job's object refused, as an answer. */
export function controlRefusal(status: "not_found" | "unauthorized" | "forbidden" | "unavailable"): ApiError {
  if (status === "not_found") return gone();
  if (status === "unavailable") return new ApiError(503, "unavailable", "The job could not be deleted just now (its owner's job list is unreachable); try again", undefined, { "Retry-After": "5" });
  if (status === "unauthorized") return unauthorized("Canceling or deleting a job needs its owner's credentials or its control token (header Control-Token)");
  return new ApiError(403, "forbidden", "These credentials do not control this job: only its owner or its control token may cancel or delete it");
}

/** The dashboard's forms say which of its pages they were posted from, to be sent back there. */
async function formReturn(c: Context): Promise<string | null> {
  const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  return typeof body.back === "string" && body.back.startsWith("/dashboard") ? dashboardReturn(body.back) : null;
}

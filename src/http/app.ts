// The Worker's HTTP API: validation and content negotiation at the edge, then one
// RPC or fetch to the job's own Durable Object.
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { bodyLimit } from "hono/body-limit";
import { readConfig } from "../config";
import type { Env } from "../env";
import type { JobRpc } from "../job/job-object";
import { jobTypeInfos } from "../jobs";
import type { CreatedJob, JobUrls } from "../protocol";
import type { AppEnv } from "./app-env";
import { fingerprint, readJobRequest } from "./create-request";
import { ApiError, errorBody, notFound, onError } from "./errors";
import { isGenuineJobId, mintJobId } from "./job-id";
import { followKind, liveResponse, registerLiveRoutes, wantsEventStream } from "./live-routes";
import { isFormPost, jobPageResponse, registerPages, wantsHtml } from "./pages";

export const app = new Hono<AppEnv>();

app.onError(onError);
app.notFound((c) => c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}`), 404));
registerPages(app);

app.get("/health", (c) => c.json({ ok: true }));

app.get("/job-types", (c) => c.json({ types: jobTypeInfos() }));

app.post(
  "/jobs",
  (c, next) => {
    const maxSize = readConfig(c.env).maxBodyBytes;
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError(413, "body_too_large", `The body may be at most ${maxSize} bytes`);
      },
    })(c, next);
  },
  async (c) => {
    const config = readConfig(c.env);
    const request = await readJobRequest(c, config);
    const idempotencyKey = readIdempotencyKey(c);
    const id = await mintJobId(secretOf(c.env), idempotencyKey);
    const outcome = await stubFor(c.env, id).create({
      id, type: request.type, input: request.input, timeoutMs: request.timeoutMs, fingerprint: await fingerprint(request),
    });
    if (outcome.status === "conflict") {
      throw new ApiError(409, "idempotency_key_reused", "This Idempotency-Key was already used for a different request");
    }
    const urls = jobUrls(c, id);
    if (request.fromForm) return c.redirect(urls.page, 303);
    const status = outcome.status === "created" ? 201 : 200;
    const follow = followKind(c);
    if (follow) return liveResponse(c, stubFor(c.env, id), follow, 0, { status, headers: { Location: urls.self } });
    const body: CreatedJob = { id, state: outcome.snapshot.state, urls };
    c.header("Location", urls.self);
    return c.json(body, status);
  },
);

// Every /jobs/:id route: refuse forged ids here, without addressing any object.
for (const path of ["/jobs/:id", "/jobs/:id/*"]) {
  app.use(path, async (c, next) => {
    const id = c.req.param("id") ?? "";
    if (!(await isGenuineJobId(secretOf(c.env), id))) throw notFound();
    c.set("jobId", id);
    c.set("job", stubFor(c.env, id));
    await next();
  });
}

app.get("/jobs/:id", async (c) => {
  const snapshot = await c.var.job.snapshot();
  if (!snapshot) throw notFound();
  if (wantsHtml(c)) return jobPageResponse(c, snapshot, jobUrls(c, snapshot.id));
  return c.json(snapshot);
});

registerLiveRoutes(app);

app.get("/jobs/:id/events", async (c) => {
  if (wantsEventStream(c)) return liveResponse(c, c.var.job, "sse");
  const since = intParam(c, "since", 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = intParam(c, "limit", 100, 1, 1_000);
  const page = await c.var.job.events(since, limit);
  if (!page) throw notFound();
  return c.json(page);
});

/** The object's own accounting of what this job cost: rows written, alarms, events. */
app.get("/jobs/:id/costs", async (c) => {
  const costs = await c.var.job.costs();
  if (!costs) throw notFound();
  return c.json(costs);
});

const cancel = async (c: Context<AppEnv>) => {
  const outcome = await c.var.job.cancel();
  if (outcome.status === "not_found") throw notFound();
  // The job page's form (it works without JavaScript) goes back to the page, which shows the outcome.
  if (isFormPost(c)) return c.redirect(jobUrls(c, c.var.jobId).page, 303);
  if (outcome.status === "conflict") {
    throw new ApiError(409, "already_finished", `The job already ${outcome.snapshot.state}; only a queued, running or waiting job can be canceled`);
  }
  return c.json(outcome.snapshot);
};
app.post("/jobs/:id/cancel", cancel);
app.delete("/jobs/:id", cancel);

function secretOf(env: Env): string {
  if (!env.JOB_ID_SECRET) throw new ApiError(500, "misconfigured", "JOB_ID_SECRET is not set on this deployment");
  return env.JOB_ID_SECRET;
}

function stubFor(env: Env, id: string): JobRpc {
  return env.JOBS.get(env.JOBS.idFromName(id)) as unknown as JobRpc;
}

function jobUrls(c: Context, id: string): JobUrls {
  const origin = new URL(c.req.url).origin;
  const self = `${origin}/jobs/${id}`;
  return {
    self,
    page: self,
    events: `${self}/events`,
    stream: `${self}/stream`,
    sse: `${self}/sse`,
    ws: `${self.replace(/^http/, "ws")}/ws`,
    cancel: `${self}/cancel`,
  };
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function readIdempotencyKey(c: Context): string | undefined {
  const key = c.req.header("Idempotency-Key")?.trim();
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 visible ASCII characters");
  }
  return key;
}

function intParam(c: Context, name: string, fallback: number, min: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ApiError(400, "invalid_query", `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

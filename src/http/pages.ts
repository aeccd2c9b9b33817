// The HTML side of the Worker: the start page, the job page, and errors as pages for
// browsers. Each branch needs `Accept: text/html` (which browsers send on navigations
// and form posts), so API clients keep getting JSON.
import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono/tiny";
import { errorPage } from "../pages/error-page";
import { homePage, startForm, type StartForm, type StartType } from "../pages/home-page";
import { jobPage } from "../pages/job-page";
import type { AnyJobDefinition } from "../jobs/define";
import type { ApiError as ApiErrorBody, Budget, JobSnapshot, JobTypeInfo, JobUrls } from "../protocol";
import { budgetFor, defaultTimeoutMs } from "../service/create";
import { wantsHtml } from "./accept";
import type { AppEnv } from "./app-env";
import { mayCreate } from "./auth";
import { requireConfigured } from "./security";
import { flagParam } from "./query";

/** Scripts, styles and connections only from this origin; no inline script, no framing. */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'none'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'"], connectSrc: ["'self'"],
  formAction: ["'self'"], baseUri: ["'none'"], frameAncestors: ["'none'"],
};

/** Log lines the server renders into the job page; the browser streams the rest. */
const FIRST_EVENTS = 1_000;
/** A refused form comes back with what was typed, up to this much of it. */
const MAX_ECHOED_INPUT_CHARS = 8_192;

export function isFormPost(c: Context): boolean {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  return type === "application/x-www-form-urlencoded" || type === "multipart/form-data";
}

export function pagesApp(): Hono<AppEnv> {
  const pages = new Hono<AppEnv>();
  // A misconfigured deployment starts nothing: its form would only lead to a 503, so the page says why at once.
  pages.get("/", requireConfigured, (c) => {
    const types = startableTypes(c);
    return c.html(homePage(types, startForm(types, c.req.query("type")), undefined, csrfOf(c)));
  });
  return pages;
}

/** The start page offers what this visitor may start, with hints on what the visitor's budget allows of each. */
function startableTypes(c: Context<AppEnv>): StartType[] {
  const { config, principal, access, types } = c.var;
  return types.infos((d) => mayCreate(principal, d, access)).map((info) => {
    const definition = types.find(info.type)!;
    const budget = budgetFor(config, principal, definition);
    return { ...info, inputHints: hintsOf(definition, budget), timeout: { defaultMs: defaultTimeoutMs(config, budget), maxMs: budget.runTimeMs, fitsInput: needsRunTime(definition) } };
  });
}

/** Whether the type's `needs` speaks of run time (as its example's needs say): then a default deadline grows to cover an input's. */
function needsRunTime(definition: AnyJobDefinition): boolean {
  try {
    return definition.needs?.(definition.example)?.runTimeMs !== undefined;
  } catch {
    return false; // a hint only, as below
  }
}

/** Hints are a nicety: an author's `inputHints` that throws costs its type the hints, not the page. */
function hintsOf(definition: AnyJobDefinition, budget: Budget): Record<string, string> {
  try {
    return definition.inputHints?.(budget) ?? {};
  } catch (error) {
    console.error(`inputHints of job type "${definition.type}" threw`, error);
    return {};
  }
}

export async function jobPageResponse(c: Context<AppEnv>, snapshot: JobSnapshot, urls: JobUrls, canControl: boolean): Promise<Response> {
  // The job may expire between the two reads; the page then shows the snapshot alone.
  const events = (await c.var.job.events(0, FIRST_EVENTS)) ?? { events: [], nextSince: 0, lastSeq: 0, done: true };
  return c.html(jobPage(snapshot, urls, events, { canControl, csrf: csrfOf(c), reloads: flagParam(c, "reload", true) }));
}

/** A signed-in browser's CSRF token, for the forms of its pages. */
export function csrfOf(c: Context<AppEnv>): string | undefined {
  const principal = c.var.principal;
  return principal.kind === "owner" ? principal.csrf : undefined;
}

/** For browsers: a refused form post re-renders the form with the errors; other refusals become pages. */
export const errorsAsPages: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const status = c.res.status;
  if (status < 400 || !wantsHtml(c) || !c.res.headers.get("Content-Type")?.includes("application/json")) return;
  const error = await errorOf(c.res);
  // Headers an error's meaning depends on go with it into the page (a 405 must name its methods).
  const kept = ["Retry-After", "Allow"].flatMap((name) => {
    const value = c.res.headers.get(name);
    return value === null ? [] : [[name, value] as const];
  });
  // And its cookies: a form post cut off by a reset of its job's object may have made the job, whose control cookie is the only way the browser gets to cancel it.
  const cookies = c.res.headers.getSetCookie();
  c.res = undefined; // replace the response rather than merge the JSON one's headers into it
  if (isFormPost(c) && c.req.method === "POST" && c.req.path === "/jobs" && status < 500 && c.var.types) {
    const types = startableTypes(c);
    c.res = await c.html(homePage(types, await submittedForm(c, types, status), error, csrfOf(c)), status as 400);
  } else {
    c.res = await c.html(errorPage(status, error.message), status as 404);
  }
  for (const [name, value] of kept) c.res.headers.set(name, value);
  for (const cookie of cookies) c.res.headers.append("Set-Cookie", cookie);
};

async function errorOf(response: Response): Promise<ApiErrorBody["error"]> {
  const body = (await response.clone().json().catch(() => null)) as Partial<ApiErrorBody> | null;
  return body?.error?.message ? body.error : { code: "error", message: "The request was refused." };
}

/** What the user typed, to put back into the form; nothing of a body refused for its size. */
async function submittedForm(c: Context, types: JobTypeInfo[], status: number): Promise<StartForm> {
  const fallback = startForm(types);
  if (status === 413) return fallback;
  const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  const text = (name: string) => (typeof body[name] === "string" ? (body[name] as string).slice(0, MAX_ECHOED_INPUT_CHARS) : "");
  return { type: text("type") || fallback.type, input: text("input") || fallback.input, timeoutMs: text("timeoutMs").slice(0, 20) };
}

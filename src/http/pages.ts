// The HTML side of the Worker: the start page, the job page, security headers on every
// page, and errors as pages for browsers. Each branch needs `Accept: text/html` (which
// browsers send on navigations and form posts), so API clients keep getting JSON.
import type { Context, Hono, MiddlewareHandler } from "hono";
import { jobTypeInfos } from "../jobs";
import { errorPage } from "../pages/error-page";
import { homePage, startForm, type StartForm } from "../pages/home-page";
import { jobPage } from "../pages/job-page";
import type { ApiError as ApiErrorBody, JobSnapshot, JobUrls } from "../protocol";
import type { AppEnv } from "./app-env";

/** Scripts, styles and connections only from this origin; no inline script, no framing. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
  "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'",
].join("; ");

/** Log lines the server renders into the job page; the browser streams the rest. */
const FIRST_EVENTS = 1_000;

export function wantsHtml(c: Context): boolean {
  return c.req.header("Accept")?.includes("text/html") ?? false;
}

export function isFormPost(c: Context): boolean {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  return type === "application/x-www-form-urlencoded" || type === "multipart/form-data";
}

export function registerPages(app: Hono<AppEnv>): void {
  app.use("*", pageHeaders, errorsAsPages);
  app.get("/", (c) => c.html(homePage(jobTypeInfos(), startForm(jobTypeInfos(), c.req.query("type")))));
}

export async function jobPageResponse(c: Context<AppEnv>, snapshot: JobSnapshot, urls: JobUrls): Promise<Response> {
  // The job may expire between the two reads; the page then shows the snapshot alone.
  const events = (await c.var.job.events(0, FIRST_EVENTS)) ?? { events: [], nextSince: 0, lastSeq: 0, done: true };
  return c.html(jobPage(snapshot, urls, events));
}

const pageHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  if (!c.res.headers.get("Content-Type")?.startsWith("text/html")) return;
  c.res.headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  c.res.headers.set("X-Content-Type-Options", "nosniff");
  // A job's URL is its capability: never leak it to another site.
  c.res.headers.set("Referrer-Policy", "no-referrer");
};

/** A refused form post re-renders the form with the errors; a 404 becomes a page. */
const errorsAsPages: MiddlewareHandler = async (c, next) => {
  await next();
  const status = c.res.status;
  if (status < 400 || status >= 500 || !wantsHtml(c)) return;
  const form = isFormPost(c);
  if (status !== 404 && !form) return;
  const error = await errorOf(c.res);
  c.res = undefined; // replace the response rather than merge the JSON one's headers into it
  if (form && c.req.method === "POST" && c.req.path === "/jobs") {
    c.res = await c.html(homePage(jobTypeInfos(), await submittedForm(c), error), status as 400);
  } else {
    c.res = await c.html(errorPage(status, error.message), status as 404);
  }
};

async function errorOf(response: Response): Promise<ApiErrorBody["error"]> {
  const body = (await response.clone().json().catch(() => null)) as Partial<ApiErrorBody> | null;
  return body?.error?.message ? body.error : { code: "error", message: "The request was refused." };
}

/** What the user typed, to put back into the form; the body may be unreadable (too large). */
async function submittedForm(c: Context): Promise<StartForm> {
  const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  const text = (name: string) => (typeof body[name] === "string" ? (body[name] as string) : "");
  const fallback = startForm(jobTypeInfos());
  return { type: text("type") || fallback.type, input: text("input") || fallback.input, timeoutMs: text("timeoutMs") };
}

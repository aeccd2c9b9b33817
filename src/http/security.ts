// Cross-site rules: which origins may post forms, open WebSockets and call the API from
// a browser. The deployment's own origin always may; ALLOWED_ORIGINS names others.
// Requests without an Origin (curl, servers) are not browsers acting for a visitor.
import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { csrf } from "hono/csrf";
import type { AppEnv } from "./app-env";
import { ApiError } from "./errors";

export function ownOrigin(c: Context<AppEnv>): string {
  return c.var.access.publicOrigin ?? new URL(c.req.url).origin;
}

function isAllowedOrigin(origin: string, c: Context<AppEnv>): boolean {
  return origin === ownOrigin(c) || c.var.access.allowedOrigins.includes(origin);
}

const formCsrf = csrf({ origin: isAllowedOrigin });

/** Hono's csrf for form posts from browsers; a request with neither Origin nor Sec-Fetch-Site is no browser's. */
export const crossSiteForms: MiddlewareHandler<AppEnv> = (c, next) => {
  if (c.req.header("Origin") === undefined && c.req.header("Sec-Fetch-Site") === undefined) return next();
  return formCsrf(c, next);
};

/** CORS for the sites in ALLOWED_ORIGINS; credentials travel in headers, never cookies. */
export const apiCors: MiddlewareHandler<AppEnv> = (c, next) => {
  if (c.var.access.allowedOrigins.length === 0) return next();
  return cors({
    origin: (origin) => (c.var.access.allowedOrigins.includes(origin) ? origin : null),
    allowMethods: ["GET", "POST", "DELETE"],
    allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "Control-Token", "Last-Event-ID"],
    exposeHeaders: ["Location", "Retry-After", "Control-Token"],
    maxAge: 600,
  })(c, next);
};

/** A WebSocket upgrade carries the visitor's cookies: only our own pages and listed sites may open one. */
export function checkWebSocketOrigin(c: Context<AppEnv>): void {
  const origin = c.req.header("Origin");
  if (origin !== undefined && !isAllowedOrigin(origin, c)) {
    throw new ApiError(403, "forbidden_origin", "WebSocket connections from this site are not allowed; see ALLOWED_ORIGINS");
  }
}

/** Every answer is per job or per caller, and may change or vanish: never cached by browsers or proxies. */
export const noStore: MiddlewareHandler = async (c, next) => {
  await next();
  if (!c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "no-store");
};

/** A deployment with weak or missing secrets serves no job routes (/health says why). */
export const requireConfigured: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { problems } = c.var.access;
  if (problems.length) throw new ApiError(503, "misconfigured", `This deployment is misconfigured: ${problems.join("; ")}`);
  await next();
};

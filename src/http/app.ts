// The Worker's HTTP app: security headers, cross-site rules and authentication for every
// request, then the pages, the job-type listing and the /jobs API, each mounted as its
// own part. Validation happens here at the edge; each job is one RPC or fetch away.
import { Hono } from "hono/tiny";
import { secureHeaders } from "hono/secure-headers";
import { isLoopback, readDeploymentAccess } from "../access-config";
import { readConfig } from "../config";
import type { JobRegistry } from "../jobs/registry";
import type { AppEnv } from "./app-env";
import { authenticate, mayCreate } from "./auth";
import { limitBody } from "./create-route";
import { errorBody, onError } from "./errors";
import { dashboardApp } from "./dashboard-routes";
import { jobsApp } from "./jobs-app";
import { feedApp, liveApp } from "./mux-routes";
import { CONTENT_SECURITY_POLICY, errorsAsPages, pagesApp } from "./pages";
import { openApiDocument } from "./openapi";
import { apiCors, crossSiteForms, noStore, ownOrigin } from "./security";
import { requireSessionCsrf } from "./session";

export interface AppOptions {
  types: JobRegistry;
}

export function createApp({ types }: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound((c) => {
    const allowed = allowedMethods(app.routes, c.req.path);
    if (allowed.length === 0) return c.json(errorBody("not_found", "No such route"), 404);
    return c.json(errorBody("method_not_allowed", `This route answers ${allowed.join(", ")} only`), 405, { Allow: allowed.join(", ") });
  });
  app.use(
    secureHeaders({ contentSecurityPolicy: CONTENT_SECURITY_POLICY }),
    noStore,
    errorsAsPages,
    async (c, next) => {
      c.set("types", types);
      c.set("config", readConfig(c.env));
      c.set("access", await readDeploymentAccess(c.env, isLoopback(new URL(c.req.url).hostname), types));
      await next();
    },
    apiCors,
    crossSiteForms,
    authenticate,
    limitBody,
    requireSessionCsrf,
  );

  app.get("/health", (c) => {
    const { problems } = c.var.access;
    return problems.length ? c.json({ ok: false, problems }, 503) : c.json({ ok: true });
  });
  app.get("/job-types", (c) => c.json({ types: types.infos((d) => mayCreate(c.var.principal, d, c.var.access)) }));
  app.get("/openapi.json", (c) => c.json(openApiDocument(types, ownOrigin(c), (d) => mayCreate(c.var.principal, d, c.var.access))));
  app.route("/jobs", jobsApp());
  app.route("/live", liveApp());
  app.route("/feed", feedApp());
  app.route("/", pagesApp());
  app.route("/", dashboardApp());
  return app;
}

/** The methods some route answers at `path` (middleware, method ALL, aside), for a 405's Allow. */
export function allowedMethods(routes: readonly { method: string; path: string }[], path: string): string[] {
  const methods = new Set(routes.filter((route) => route.method !== "ALL" && routePattern(route.path).test(path)).map((route) => route.method));
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods];
}

/** A route's path (`/jobs/:id/events`) as a pattern for request paths. */
function routePattern(path: string): RegExp {
  const escaped = path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}/?$`);
}

// The dashboard and its session: GET /dashboard (the sign-in form without a session),
// POST /session (sign in with a token or JWT), POST /session/end (sign out).
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { dashboardPage, signInPage } from "../pages/dashboard-page";
import { wantsHtml } from "./accept";
import type { AppEnv } from "./app-env";
import { fromCredential, MAX_CREDENTIAL_CHARS } from "./auth";
import { ApiError } from "./errors";
import { LIST_PARAMS, listFor, parseFilter } from "./list-route";
import { requireConfigured } from "./security";
import { clearStaleSession, endSession, startSession } from "./session";

export function dashboardApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // As the job routes: a misconfigured deployment (weak secrets, a missing binding) starts no session and lists nothing.
  app.use("/dashboard", requireConfigured);
  app.use("/session", requireConfigured);
  app.use("/session/*", requireConfigured);
  app.get("/dashboard", async (c) => {
    // The filter form submits its empty fields too (?state=&type=&tag=x): on to the URL
    // without them, with or without JavaScript.
    const clean = withoutEmptyParams(new URL(c.req.url));
    if (clean !== null) return c.redirect(clean, 303);
    const principal = c.var.principal;
    // The dashboard is the browser's: a session, whose forms carry its CSRF token.
    if (principal.kind !== "owner" || principal.csrf === undefined) return c.html(signInPage(undefined, principal.kind !== "owner" && (await clearStaleSession(c))));
    const filter = parseFilter(c.req.query());
    const list = await listFor(c.env, c.var.config.indexShards, principal.owner, filter);
    const { type, tag, cursor } = c.req.query();
    return c.html(dashboardPage({
      owner: principal.owner, list, csrf: principal.csrf, now: Date.now(), limit: filter.limit,
      filter: { ...(filter.state ? { state: filter.state } : {}), ...(type ? { type } : {}), ...(tag ? { tag } : {}), ...(cursor ? { cursor } : {}) },
      types: c.var.types.names.filter((name) => !principal.types || principal.types.has(name)),
    }));
  });

  app.post("/session", async (c) => {
    try {
      const credential = await credentialOf(c);
      await startSession(c, await fromCredential(credential, c.var.access), credential);
    } catch (error) {
      // A malformed credential (400) or a wrong one (401): to a browser, the form again,
      // saying why; to anyone else, the JSON error, as every route answers.
      if (error instanceof ApiError && (error.status === 400 || error.status === 401) && wantsHtml(c)) return c.html(signInPage(error.message), error.status);
      throw error;
    }
    return c.redirect("/dashboard", 303);
  });

  app.post("/session/end", async (c) => {
    await endSession(c);
    return c.redirect("/dashboard", 303);
  });
  return app;
}

async function credentialOf(c: Context): Promise<string> {
  const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  const credential = typeof body.credential === "string" ? body.credential.trim() : "";
  if (credential.length > MAX_CREDENTIAL_CHARS) throw new ApiError(400, "invalid_request", `Paste an owner token or a JWT: this is longer than one may be (${MAX_CREDENTIAL_CHARS} characters)`);
  if (!/^[\x21-\x7e]+$/.test(credential)) throw new ApiError(400, "invalid_request", "Paste an owner token or a JWT");
  return credential;
}


/**
 * Where a dashboard form goes back to: the dashboard at the page it was posted from
 * (`back`, as the page wrote it), with only the dashboard's own parameters, so that a
 * forged value can lead nowhere else.
 */
export function dashboardReturn(back: string): string {
  const query = back.startsWith("/dashboard?") && back.length <= 1_000 ? new URLSearchParams(back.slice("/dashboard?".length)) : null;
  const kept = new URLSearchParams([...(query ?? [])].filter(([name, value]) => LIST_PARAMS.includes(name) && value !== ""));
  return kept.size ? `/dashboard?${kept}` : "/dashboard";
}

/** The dashboard's path and query without its empty parameters; null if it has none. */
function withoutEmptyParams(url: URL): string | null {
  const params = [...url.searchParams];
  const kept = params.filter(([, value]) => value !== "");
  if (kept.length === params.length) return null;
  const query = new URLSearchParams(kept).toString();
  return query ? `${url.pathname}?${query}` : url.pathname;
}

// Dashboard sessions. Signing in with an owner token or a JWT sets an HttpOnly,
// SameSite=Strict cookie holding a session JWT this deployment signs (12 hours, or the
// signing-in JWT's own expiry if sooner), never the credential itself. Signing out
// records the session's id in the owner's index until it would have expired, and every
// request made with a session cookie asks the index: a copy of the cookie ends with it.
// Requests that change something and are authenticated by that cookie must also carry
// the session's CSRF token (a form field `csrf`, or the header X-CSRF-Token): together
// with Hono's csrf check on form posts, no other site can act with a visitor's session.
// A session is also bound to the credential it was started with (`cred`): it ends when
// that token is no longer in API_TOKENS for its owner, or JWT_SECRET changes, as the
// credential itself would stop working then.
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { sign, verify } from "hono/jwt";
import type { AccessConfig } from "../access-config";
import { randomToken, sha256, toHex } from "../lib/crypto";
import { indexShard } from "../owners/shards";
import type { AppEnv } from "./app-env";
import { isJwt, verifyJwt, type Principal } from "./auth";
import { ApiError } from "./errors";
import { isFormPost } from "./pages";

/**
 * The cookie's name: on https `__Host-session`, which browsers take only from this host
 * itself (Secure, Path=/, no Domain), so a sibling subdomain cannot plant a session of its
 * own choosing; plain http (`wrangler dev`) cannot carry the prefix.
 */
export function sessionCookie(url: string): { name: string; secure: boolean } {
  const secure = new URL(url).protocol === "https:";
  return { name: secure ? "__Host-session" : "session", secure };
}
const SESSION_TTL_S = 12 * 3600;
/** A session cookie's value, at most: browsers keep a cookie's name and value within 4,096 bytes. */
const MAX_SESSION_CHARS = 4_000;
const UNSAFE = /^(POST|PUT|PATCH|DELETE)$/;

/** The session key is derived from JOB_ID_SECRET, apart from the keys that tag job ids. */
function sessionKey(access: AccessConfig): string {
  return `${access.jobIdSecrets[0]}\u0000dashboard-session`;
}

/** What a session is bound to: an owner token (by its hash, as API_TOKENS is kept), or the JWT key its JWT was signed with. */
const tokenMaterial = (hash: Uint8Array) => `token\u0000${toHex(hash)}`;
const jwtMaterial = (secret: string) => `jwt\u0000${secret}`;

/** The session's `cred` claim for that material: keyed by the session key, so the cookie tells nothing of the credential. */
async function binding(access: AccessConfig, material: string): Promise<string> {
  return toHex(await sha256(`${sessionKey(access)}\u0000${material}`)).slice(0, 32);
}

/** Whether the credential the session was started with would still be taken (see `fromCredential`). */
async function credentialStillValid(access: AccessConfig, session: SessionClaims): Promise<boolean> {
  if (typeof session.cred !== "string") return false;
  const materials = [
    ...access.jwtSecrets.map(jwtMaterial),
    ...access.tokens.filter((token) => token.owner === session.sub).map((token) => tokenMaterial(token.hash)),
  ];
  for (const material of materials) if ((await binding(access, material)) === session.cred) return true;
  return false;
}

/** Starts a session for an owner, from the credential that named it; a JWT's type limit and expiry carry over. */
export async function startSession(c: Context<AppEnv>, owner: Principal & { kind: "owner" }, credential: string): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const exp = Math.min(now + SESSION_TTL_S, owner.expiresAt ?? Infinity);
  const { access } = c.var;
  // Bound to the key that signed the JWT: a session started during a rotation ends once the previous key is dropped.
  const signedBy = isJwt(credential, access) ? (await verifyJwt(credential, access.jwtSecrets))?.secret : undefined;
  const material = signedBy !== undefined ? jwtMaterial(signedBy) : tokenMaterial(await sha256(credential));
  const cred = await binding(access, material);
  const claims = { sub: owner.owner, exp, sid: randomToken(), csrf: randomToken(), cred, ...(owner.types ? { types: [...owner.types] } : {}) };
  const cookie = await sign(claims, sessionKey(c.var.access), "HS256");
  // A JWT's `types` ride in the cookie: a cookie browsers would drop (or this would not read) is refused here, not signed in to a loop.
  if (cookie.length > MAX_SESSION_CHARS) throw new ApiError(400, "invalid_request", "This JWT's `types` are too long to keep in a dashboard session; use a JWT with fewer or shorter types");
  const { name, secure } = sessionCookie(c.req.url);
  setCookie(c, name, cookie, { path: "/", httpOnly: true, sameSite: "Strict", secure, maxAge: exp - now });
}

/**
 * Whether the request carries a session cookie of ours that no longer signs anyone in
 * (signed out, its credential revoked): it is cleared, so the sign-in page says so once.
 * A session cookie this deployment did not sign (another app's on this host or a parent
 * domain, or one planted there) is neither announced nor deleted.
 */
export async function clearStaleSession(c: Context<AppEnv>): Promise<boolean> {
  if (!(await sessionClaims(c))) return false;
  deleteSessionCookie(c);
  return true;
}

/** Signs the browser out: its session is ended for good (see above), and its cookie deleted. */
export async function endSession(c: Context<AppEnv>): Promise<void> {
  const session = await sessionClaims(c);
  if (session) await indexShard(c.env, session.sub, 0).endSession(session.sid, session.exp);
  deleteSessionCookie(c);
}

function deleteSessionCookie(c: Context<AppEnv>): void {
  const { name, secure } = sessionCookie(c.req.url);
  deleteCookie(c, name, { path: "/", secure }); // a `__Host-` cookie is deleted only by a Secure Set-Cookie
}

/** The owner a valid session cookie names, or null (no cookie, a stale or forged one, one whose credential was revoked, or one signed out). */
export async function sessionPrincipal(c: Context<AppEnv>): Promise<Principal | null> {
  // A misconfigured deployment honours no session: its key may be weak, its INDEX missing
  // (a 500 on every route, /health included, for a browser with a cookie).
  if (c.var.access.problems.length) return null;
  const session = await sessionClaims(c);
  if (!session || !(await credentialStillValid(c.var.access, session))) return null;
  if (await indexShard(c.env, session.sub, 0).sessionEnded(session.sid)) return null;
  const types = Array.isArray(session.types) ? new Set(session.types.filter((t): t is string => typeof t === "string")) : undefined;
  return { kind: "owner", owner: session.sub, csrf: session.csrf, expiresAt: session.exp, ...(types ? { types } : {}) };
}

type SessionClaims = { sub: string; sid: string; csrf: string; exp: number; types?: unknown; cred?: unknown };

async function sessionClaims(c: Context<AppEnv>): Promise<SessionClaims | null> {
  const cookie = getCookie(c, sessionCookie(c.req.url).name);
  if (!cookie || cookie.length > MAX_SESSION_CHARS) return null;
  try {
    const claims = (await verify(cookie, sessionKey(c.var.access), "HS256")) as Partial<Record<keyof SessionClaims, unknown>>;
    const { sub, sid, csrf, exp } = claims;
    if (typeof sub !== "string" || typeof sid !== "string" || typeof csrf !== "string" || typeof exp !== "number") return null;
    return { sub, sid, csrf, exp, types: claims.types, cred: claims.cred };
  } catch {
    return null; // Expired or not ours: the browser is simply signed out.
  }
}

/** Unsafe requests made with the session cookie must prove they come from our own pages. */
export const requireSessionCsrf: MiddlewareHandler<AppEnv> = async (c, next) => {
  const principal = c.var.principal;
  if (principal.kind === "owner" && principal.csrf !== undefined && UNSAFE.test(c.req.method)) {
    const form = isFormPost(c) ? await c.req.parseBody().catch(() => ({}) as Record<string, unknown>) : {};
    const presented = c.req.header("X-CSRF-Token") ?? (typeof form.csrf === "string" ? form.csrf : undefined);
    if (presented !== principal.csrf) throw new ApiError(403, "csrf", "This request needs the dashboard's CSRF token; reload the page and try again");
  }
  await next();
};


// Who is asking: an owner (bearer token from API_TOKENS, a JWT from the deployer's
// backend, or a dashboard session cookie) or an anonymous visitor known by IP. Presented
// credentials that are wrong are refused (401) even on routes that anonymous visitors
// may use: a typo should not silently turn an owner into a stranger. (A stale session
// cookie just signs the browser out: it is sent on every page, asked for or not.)
import type { Context, MiddlewareHandler } from "hono";
import { verify } from "hono/jwt";
import { OWNER_PATTERN, type AccessConfig } from "../access-config";
import { sameBytes, sha256 } from "../lib/crypto";
import type { AnyJobDefinition } from "../jobs/define";
import type { AppEnv } from "./app-env";
import { ApiError } from "./errors";
import { sessionPrincipal } from "./session";

export type Principal =
  | {
    kind: "owner";
    owner: string;
    /** Types a JWT limits its holder to; absent: all. */
    types?: ReadonlySet<string>;
    /** Set when the owner came by session cookie: unsafe requests must carry it (see session.ts). */
    csrf?: string;
    /** When these credentials expire (epoch seconds): a JWT's `exp`, a session's. A session a JWT starts ends by then; a feed they open, then. */
    expiresAt?: number;
  }
  | { kind: "anonymous"; ip: string };

export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("Authorization");
  c.set("principal", header === undefined ? ((await sessionPrincipal(c)) ?? anonymous(c)) : await fromAuthorization(header, c.var.access));
  await next();
};

function anonymous(c: Context): Principal {
  // Cloudflare sets CF-Connecting-IP; without it (tests, local tools) all share one key.
  return { kind: "anonymous", ip: addressKey(c.req.header("CF-Connecting-IP") ?? "unknown") };
}

/**
 * What anonymous visitors are counted by: an IPv4 address, or an IPv6 address's /64 (one
 * subscriber line gets a whole /64, so a single visitor could otherwise be 2^64 visitors).
 */
export function addressKey(ip: string): string {
  if (!ip.includes(":")) return ip.slice(0, 45);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  const [head = "", tail] = ip.toLowerCase().split("::", 2);
  const groups = head ? head.split(":") : [];
  const rest = tail === undefined ? [] : tail ? tail.split(":") : [];
  // "::" stands for however many zero groups make eight (an embedded IPv4 tail counts as two).
  const width = (parts: string[]) => parts.reduce((n, part) => n + (part.includes(".") ? 2 : 1), 0);
  if (tail !== undefined) groups.push(...Array<string>(Math.max(0, 8 - width(groups) - width(rest))).fill("0"), ...rest);
  const prefix = groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, ""));
  const valid = prefix.length === 4 && prefix.every((group) => /^[0-9a-f]{1,4}$/.test(group));
  return valid ? `${prefix.join(":")}::/64` : ip.slice(0, 45);
}

/** Longer credentials are refused unread: no token we issue, nor a sane JWT, comes near. */
export const MAX_CREDENTIAL_CHARS = 4_096;
/** Job types one JWT may name (its `types` claim). */
const MAX_JWT_TYPES = 100;

async function fromAuthorization(header: string, access: AccessConfig): Promise<Principal> {
  const match = /^Bearer +([\x21-\x7e]+)$/i.exec(header.trim());
  if (!match) throw unauthorized("The Authorization header must be `Bearer <token>`");
  if (match[1]!.length > MAX_CREDENTIAL_CHARS) throw unauthorized(`A token or JWT has at most ${MAX_CREDENTIAL_CHARS} characters`);
  return fromCredential(match[1]!, access);
}

/** A credential is read as a JWT when JWTs are configured and it has a JWT's three parts; as an owner token otherwise. */
export function isJwt(credential: string, access: AccessConfig): boolean {
  return access.jwtSecrets.length > 0 && credential.split(".").length === 3;
}

/** An owner token or a JWT, as sent in `Authorization: Bearer` or typed into the dashboard's sign-in. */
export async function fromCredential(credential: string, access: AccessConfig): Promise<Principal & { kind: "owner" }> {
  if (isJwt(credential, access)) return fromJwt(credential, access.jwtSecrets);
  const owner = await ownerOfToken(credential, access);
  if (owner === null) throw unauthorized("This token is not one of this deployment's owner tokens");
  return { kind: "owner", owner };
}

/** Compares with every configured token in constant time, so timing tells nothing. */
async function ownerOfToken(token: string, access: AccessConfig): Promise<string | null> {
  const hash = await sha256(token);
  let owner: string | null = null;
  for (const entry of access.tokens) {
    if (sameBytes(hash, entry.hash)) owner ??= entry.owner;
  }
  return owner;
}

/** A JWT's payload and the key of `secrets` that signed it; null when none did. */
export async function verifyJwt(token: string, secrets: readonly string[]): Promise<{ payload: Record<string, unknown>; secret: string } | null> {
  for (const secret of secrets) {
    try {
      // Hono (4.13) calls an `exp` that is no number "expired" (JwtTokenExpired), and says so
      // before checking the signature; and it takes no clock skew for `nbf` and `iat`. The
      // time claims are checked by the caller, after the signature (jwtTimeProblem).
      const payload: unknown = await verify(token, secret, { alg: "HS256", exp: false, nbf: false, iat: false });
      // Hono returns whatever JSON the payload holds once the signature checks out: a
      // `null` (which the claim checks cannot even read: a 500) or a list is no claims.
      if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return null;
      return { payload: payload as Record<string, unknown>, secret };
    } catch {
      // Signature, algorithm, a payload that is no object: untrusted input; the next key, or a 401.
    }
  }
  return null;
}

async function fromJwt(token: string, secrets: readonly string[]): Promise<Principal & { kind: "owner" }> {
  const verified = await verifyJwt(token, secrets);
  if (!verified) throw unauthorized("The JWT is not valid (signature, algorithm or claims)");
  const { payload } = verified;
  const problem = jwtTimeProblem(payload, Math.floor(Date.now() / 1000));
  if (problem) throw unauthorized(problem);
  const expiresAt = payload.exp as number; // checked by jwtTimeProblem
  if (typeof payload.sub !== "string" || !OWNER_PATTERN.test(payload.sub)) throw unauthorized("The JWT's `sub` must name the owner (1 to 128 visible characters, no `=` or `,`)");
  const types = payload.types;
  if (types === undefined) return { kind: "owner", owner: payload.sub, expiresAt };
  if (!Array.isArray(types) || types.length > MAX_JWT_TYPES || !types.every((t) => typeof t === "string")) {
    throw unauthorized(`The JWT's \`types\` claim must be a list of at most ${MAX_JWT_TYPES} job types`);
  }
  return { kind: "owner", owner: payload.sub, types: new Set(types), expiresAt };
}

/**
 * How far the clock of the backend that mints JWTs may run ahead of ours: a JWT made just
 * now carries an `iat` (jsonwebtoken adds one by default) or `nbf` that may lie a moment in
 * our future, and refusing it would fail a fresh user's first requests now and then.
 */
export const JWT_CLOCK_SKEW_S = 60;

/** Why a JWT's time claims refuse it at `now` (epoch seconds), or null. `exp` is required, and taken strictly. */
export function jwtTimeProblem(payload: Record<string, unknown>, now: number): string | null {
  const { exp, nbf, iat } = payload;
  if (exp === undefined) return "The JWT has no `exp` claim; tokens must expire";
  for (const [name, value] of [["exp", exp], ["nbf", nbf], ["iat", iat]] as const) {
    if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value))) return `The JWT is not valid: its \`${name}\` must be a number of seconds since 1970`;
  }
  if ((exp as number) <= now) return "The JWT has expired";
  if (typeof nbf === "number" && nbf > now + JWT_CLOCK_SKEW_S) return "The JWT is not valid yet (its `nbf` is in the future)";
  if (typeof iat === "number" && iat > now + JWT_CLOCK_SKEW_S) return "The JWT is not valid: its `iat` says it was issued in the future";
  return null;
}

export function unauthorized(message: string): ApiError {
  return new ApiError(401, "unauthorized", message, undefined, { "WWW-Authenticate": 'Bearer realm="jobs"' });
}

/** Why the principal may not create this type (401 for strangers, 403 for owners), or null. */
export function createRefusal(principal: Principal, definition: AnyJobDefinition, access: AccessConfig): ApiError | null {
  if (principal.kind === "anonymous") {
    const open = !definition.ownersOnly && access.publicTypes.has(definition.type);
    return open ? null : unauthorized(`Creating a "${definition.type}" job needs credentials: Authorization: Bearer <token or JWT>`);
  }
  if (principal.types && !principal.types.has(definition.type)) {
    return new ApiError(403, "forbidden", `These credentials may not create "${definition.type}" jobs`);
  }
  return null;
}

export function mayCreate(principal: Principal, definition: AnyJobDefinition, access: AccessConfig): boolean {
  return createRefusal(principal, definition, access) === null;
}

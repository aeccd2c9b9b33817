// Who may do what, as configured: owner tokens, the JWT key, public job types, other
// origins. Parsed once per set of values; a weak or malformed secret is a problem that
// closes the job routes (503) and shows in /health, never a silent fallback.
import { configProblems } from "./config";
import type { Env } from "./env";
import type { JobRegistry } from "./jobs/registry";
import { sha256 } from "./lib/crypto";

export interface AccessConfig {
  /** SHA-256 of each owner token, with its owner. */
  tokens: { owner: string; hash: Uint8Array }[];
  /** HS256 keys a JWT may be signed with: JWT_SECRET, then JWT_SECRET_PREVIOUS while a rotation lasts. Empty: JWTs are off. */
  jwtSecrets: string[];
  /** HMAC keys of job ids: the first (JOB_ID_SECRET) tags new ids; ids tagged by any (JOB_ID_SECRET_PREVIOUS) are genuine. */
  jobIdSecrets: string[];
  publicTypes: ReadonlySet<string>;
  allowedOrigins: readonly string[];
  publicOrigin: string | null;
  /** The key that signs webhooks (its bytes), or null: webhooks are off. */
  webhookKey: Uint8Array | null;
  webhookOrigins: readonly string[];
  /** Misconfigurations; while any is listed the job routes answer 503. */
  problems: string[];
}

/** Secrets at least this long (bytes); tokens at least MIN_TOKEN_CHARS. */
export const MIN_SECRET_BYTES = 32;
export const MIN_TOKEN_CHARS = 20;
/** Owner names, from API_TOKENS or a JWT's `sub`: visible ASCII but `=` and `,`. */
export const OWNER_PATTERN = /^[\x21-\x2b\x2d-\x3c\x3e-\x7e]{1,128}$/;

/** Values published in .dev.vars.example and earlier clones: fine on a loopback host, refused elsewhere. */
const DEV_SECRETS = new Set([
  "dev-only-job-id-secret-not-for-production", "dev-only-jwt-secret-not-for-production-use", "dev-only-token-not-for-production",
  "local-dev-secret-not-for-production",
]);

/** The access config: parsed afresh (readDeploymentAccess keeps it, once per env object). */
export async function readAccess(env: Env, loopback: boolean): Promise<AccessConfig> {
  const problems: string[] = [];
  // An app names the bindings in its own wrangler.toml: one missing or misspelt would
  // otherwise be a 500 at the first create.
  for (const [binding, className] of [["JOBS", "JobObject"], ["INDEX", "OwnerIndex"]] as const) {
    if (!env[binding]) problems.push(`The Durable Object binding ${binding} is missing: wrangler.toml needs [[durable_objects.bindings]] name = "${binding}", class_name = "${className}"`);
  }
  const secret = (name: string, value: string | undefined, required: boolean): string | null => {
    if (value === undefined || value === "") {
      if (required) problems.push(`${name} is not set`);
      return null;
    }
    if (new TextEncoder().encode(value).length < MIN_SECRET_BYTES) problems.push(`${name} is shorter than ${MIN_SECRET_BYTES} bytes`);
    else if (DEV_SECRETS.has(value) && !loopback) problems.push(`${name} is the development value from .dev.vars.example`);
    return value;
  };
  const jobIdSecret = secret("JOB_ID_SECRET", env.JOB_ID_SECRET, true) ?? "";
  const jwtSecret = secret("JWT_SECRET", env.JWT_SECRET, false);
  // A previous secret only verifies, for as long as a rotation lasts (see the README).
  const previousJobIdSecret = secret("JOB_ID_SECRET_PREVIOUS", env.JOB_ID_SECRET_PREVIOUS, false);
  const previousJwtSecret = secret("JWT_SECRET_PREVIOUS", env.JWT_SECRET_PREVIOUS, false);
  if (previousJwtSecret !== null && jwtSecret === null) problems.push("JWT_SECRET_PREVIOUS is set without JWT_SECRET");
  const jobIdSecrets = previousJobIdSecret === null ? [jobIdSecret] : [jobIdSecret, previousJobIdSecret];
  const jwtSecrets = jwtSecret === null ? [] : previousJwtSecret === null ? [jwtSecret] : [jwtSecret, previousJwtSecret];
  const tokens = await parseTokens(env.API_TOKENS ?? "", problems, loopback);
  const origins = (name: string, value: string | undefined) => list(value).flatMap((origin) => {
    const parsed = originOf(origin);
    if (parsed === null) problems.push(`${name} lists "${origin.slice(0, 100)}", which is not an origin such as https://app.example.com`);
    return parsed === null ? [] : [parsed];
  });
  const allowedOrigins = origins("ALLOWED_ORIGINS", env.ALLOWED_ORIGINS);
  const webhookOrigins = origins("WEBHOOK_ORIGINS", env.WEBHOOK_ORIGINS);
  const webhookKey = env.WEBHOOK_SECRET ? webhookKeyOf(env.WEBHOOK_SECRET) : null;
  if (env.WEBHOOK_SECRET && webhookKey === null) problems.push("WEBHOOK_SECRET must be whsec_ and the base64 of 24 to 64 random bytes");
  if (env.WEBHOOK_SECRET_PREVIOUS) {
    if (!env.WEBHOOK_SECRET) problems.push("WEBHOOK_SECRET_PREVIOUS is set without WEBHOOK_SECRET");
    else if (webhookKeyOf(env.WEBHOOK_SECRET_PREVIOUS) === null) problems.push("WEBHOOK_SECRET_PREVIOUS must be whsec_ and the base64 of 24 to 64 random bytes");
  }
  const publicOrigin = env.PUBLIC_ORIGIN ? originOf(env.PUBLIC_ORIGIN) : null;
  if (env.PUBLIC_ORIGIN && publicOrigin === null) problems.push("PUBLIC_ORIGIN is not an origin such as https://jobs.example.com");
  return { tokens, jwtSecrets, jobIdSecrets, publicTypes: new Set(list(env.PUBLIC_JOB_TYPES)), allowedOrigins, publicOrigin, webhookKey, webhookOrigins, problems };
}

async function parseTokens(value: string, problems: string[], loopback: boolean): Promise<AccessConfig["tokens"]> {
  const tokens: AccessConfig["tokens"] = [];
  for (const [index, pair] of list(value).entries()) {
    const at = pair.indexOf("=");
    const owner = at > 0 ? pair.slice(0, at) : "";
    const token = at > 0 ? pair.slice(at + 1) : "";
    // Say which pair is wrong by position only: /health is public, and names neither owners nor tokens.
    if (!OWNER_PATTERN.test(owner)) problems.push(`API_TOKENS pair ${index + 1} is not owner=token`);
    else if (token.length < MIN_TOKEN_CHARS) problems.push(`API_TOKENS pair ${index + 1}: the token is shorter than ${MIN_TOKEN_CHARS} characters`);
    else if (DEV_SECRETS.has(token) && !loopback) problems.push(`API_TOKENS pair ${index + 1}: the token is the development value from .dev.vars.example`);
    else tokens.push({ owner, hash: await sha256(token) });
  }
  return tokens;
}

/**
 * The access config with the deployment's other problems added: vars that do not parse,
 * and PUBLIC_JOB_TYPES naming a type this Worker does not define (a typo there quietly
 * closed that type to visitors, with 401s and /health saying ok).
 */
export function readDeploymentAccess(env: Env, loopback: boolean, types: Pick<JobRegistry, "find">): Promise<AccessConfig> {
  // Once per env object (an isolate hands every request the same one) and registry: the
  // vars cannot change under it, so their parsing and checks are not a per-request cost.
  let byTypes = deployments.get(env);
  if (!byTypes) deployments.set(env, (byTypes = new WeakMap()));
  let both = byTypes.get(types);
  if (!both) byTypes.set(types, (both = [null, null]));
  return (both[Number(loopback)] ??= parseDeploymentAccess(env, loopback, types));
}

const deployments = new WeakMap<Env, WeakMap<Pick<JobRegistry, "find">, [Promise<AccessConfig> | null, Promise<AccessConfig> | null]>>();

async function parseDeploymentAccess(env: Env, loopback: boolean, types: Pick<JobRegistry, "find">): Promise<AccessConfig> {
  const access = await readAccess(env, loopback);
  const problems = [
    ...configProblems(env),
    ...[...access.publicTypes].filter((type) => !types.find(type)).map((type) => `PUBLIC_JOB_TYPES lists "${type.slice(0, 100)}", which is not a job type of this Worker`),
  ];
  return problems.length ? { ...access, problems: [...access.problems, ...problems] } : access;
}

/**
 * A comma-separated var. wrangler.toml may give one as a TOML array, a number or a boolean
 * where text is typed (`PUBLIC_JOB_TYPES = ["demo"]`): read as its text ("demo", "false"),
 * which a problem then names if it is not a list of ours; `.split` on it was a 500 on every route.
 */
function list(value: unknown): string[] {
  return (value === undefined || value === null ? "" : String(value)).split(",").map((item) => item.trim()).filter(Boolean);
}

/** The origin of an http(s) URL with nothing else in it, or null. */
export function originOf(value: string): string | null {
  try {
    const url = new URL(value);
    const bare = url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password && !value.endsWith("/");
    return (url.protocol === "https:" || url.protocol === "http:") && bare ? url.origin : null;
  } catch {
    return null;
  }
}

export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * The keys webhooks are signed with: WEBHOOK_SECRET's, then during a rotation
 * WEBHOOK_SECRET_PREVIOUS's (a receiver still on the old secret verifies too). Empty:
 * webhooks are off. (A malformed secret is a problem the Worker reports; it signs nothing.)
 */
export function webhookKeysOf(env: Pick<Env, "WEBHOOK_SECRET" | "WEBHOOK_SECRET_PREVIOUS">): Uint8Array[] {
  const current = env.WEBHOOK_SECRET ? webhookKeyOf(env.WEBHOOK_SECRET) : null;
  if (current === null) return [];
  const previous = env.WEBHOOK_SECRET_PREVIOUS ? webhookKeyOf(env.WEBHOOK_SECRET_PREVIOUS) : null;
  return previous === null ? [current] : [current, previous];
}

/** A Standard Webhooks secret's key bytes, or null when it is not one. */
export function webhookKeyOf(secret: string): Uint8Array | null {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!match) return null;
  let text: string;
  try {
    text = atob(match[1]!);
  } catch {
    return null; // base64 letters that do not make bytes ("whsec_short": a length atob refuses)
  }
  const bytes = Uint8Array.from(text, (char) => char.charCodeAt(0));
  return bytes.length >= 24 && bytes.length <= 64 ? bytes : null;
}

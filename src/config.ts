import type { Env } from "./env";
import { parseDuration } from "./lib/duration";
import type { Budget } from "./protocol";

/** Limits and tuning, read from vars; every value has a default so a var may be left out. */
export interface Config {
  retentionMs: number;
  defaultJobTimeoutMs: number;
  alarmBudgetMs: number;
  /** A running step's events are written at most once per window; progress at most once per window. */
  batchWindowMs: number;
  maxBodyBytes: number;
  maxSubscribers: number;
  /** Live subscribers per job from one client (an owner, or an anonymous IP). */
  maxSubscribersPerClient: number;
  maxActiveJobs: number;
  indexShards: number;
  /** Each owner's job budget. */
  budget: Budget;
  /** Anonymous visitors' job budget. */
  publicBudget: Budget;
  /** A `/live` or `/feed` WebSocket that follows no source this long is closed. */
  liveIdleMs: number;
}

export const DEFAULTS: Config = {
  retentionMs: 7 * 86_400_000,
  defaultJobTimeoutMs: 3_600_000,
  alarmBudgetMs: 5_000,
  batchWindowMs: 100,
  maxBodyBytes: 65_536,
  maxSubscribers: 1_000,
  maxSubscribersPerClient: 20,
  maxActiveJobs: 100,
  indexShards: 1,
  budget: { steps: 10_000, events: 100_000, bytes: 64 << 20, runTimeMs: 7 * 86_400_000 },
  publicBudget: { steps: 200, events: 2_000, bytes: 1 << 20, runTimeMs: 10 * 60_000 },
  liveIdleMs: 60_000,
};

function duration(value: string | undefined, fallback: number): number {
  return value === undefined ? fallback : (parseDuration(value) ?? fallback);
}

function count(value: string | undefined, fallback: number): number {
  const n = value === undefined ? NaN : Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

function size(value: string | undefined, fallback: number): number {
  const bytes = value === undefined ? null : parseBytes(value);
  return bytes !== null && Number.isSafeInteger(bytes) && bytes > 0 ? bytes : fallback;
}

const BYTE_UNITS: Record<string, number> = { "": 1, b: 1, kib: 1 << 10, mib: 1 << 20, gib: 1 << 30 };

/** "64 MiB", "512 KiB" or a number of bytes; null when it is none of these. */
export function parseBytes(value: string): number | null {
  const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined;
  return match && unit !== undefined ? Number(match[1]) * unit : null;
}

/** "steps=10000, events=100000, bytes=64 MiB, runTime=7 days": each part optional, the rest from `fallback`. */
export function parseBudget(value: string | undefined, fallback: Budget): Budget {
  const budget = { ...fallback };
  for (const part of varText(value).split(",")) {
    const parsed = budgetPart(part.trim());
    if (!parsed) continue; // configProblems reports it
    if (parsed.key === "runTime") budget.runTimeMs = parsed.value;
    else budget[parsed.key] = parsed.value;
  }
  return budget;
}

/**
 * Vars set to something that does not parse: each one a problem for /health (and a 503 on
 * the job routes), never a silent fall-back to its default ("7 dayz" kept jobs 7 days).
 * A var left out, or empty, takes its default.
 */
export function configProblems(env: Env): string[] {
  const problems: string[] = [];
  const shown = (value: string) => JSON.stringify(value.slice(0, 100));
  for (const name of ["RETENTION", "DEFAULT_JOB_TIMEOUT", "ALARM_BUDGET", "BATCH_WINDOW", "LIVE_IDLE_TIMEOUT"] as const) {
    const value = varText(env[name]);
    if (value && parseDuration(value) === null) problems.push(`${name} is ${shown(value)}, which is not a duration such as "7 days" or "500 ms"`);
  }
  // A size, as the README has them: bytes, or KiB/MiB ("128 KiB").
  const maxBodyBytes = varText(env.MAX_BODY_BYTES);
  if (maxBodyBytes && Number.isNaN(size(maxBodyBytes, NaN))) problems.push(`MAX_BODY_BYTES is ${shown(maxBodyBytes)}, which is not a size above 0 such as "65536" or "64 KiB"`);
  for (const name of ["MAX_SUBSCRIBERS", "MAX_SUBSCRIBERS_PER_CLIENT", "MAX_ACTIVE_JOBS", "INDEX_SHARDS"] as const) {
    const value = varText(env[name]);
    if (value && Number.isNaN(count(value, NaN))) problems.push(`${name} is ${shown(value)}, which is not a whole number above 0`);
  }
  for (const name of ["JOB_BUDGET", "PUBLIC_JOB_BUDGET"] as const) {
    for (const part of varText(env[name]).split(",").map((s) => s.trim()).filter(Boolean)) {
      if (!budgetPart(part)) problems.push(`${name} has ${shown(part)}, which is not steps=N, events=N, bytes=N MiB or runTime=<duration>, each above 0`);
    }
  }
  return problems;
}

/** A var as text: wrangler.toml may give a number (`MAX_SUBSCRIBERS = -5`) or a boolean where a string is typed. */
function varText(value: unknown): string {
  return value === undefined || value === null ? "" : String(value);
}

/** One part of a budget var, parsed: null when its key is unknown or its value is not above 0. */
function budgetPart(part: string): { key: "steps" | "events" | "bytes" | "runTime"; value: number } | null {
  const at = part.indexOf("=");
  const key = part.slice(0, at).trim();
  const raw = part.slice(at + 1).trim();
  if (at < 0 || (key !== "steps" && key !== "events" && key !== "bytes" && key !== "runTime")) return null;
  const value = key === "runTime" ? parseDuration(raw) : key === "bytes" ? parseBytes(raw) : count(raw, NaN);
  return value === null || !Number.isFinite(value) || value <= 0 ? null : { key, value };
}

/** Parsed once per env object: an isolate hands every request and object the same one. */
const configs = new WeakMap<Env, Config>();

export function readConfig(env: Env): Config {
  let config = configs.get(env);
  if (!config) configs.set(env, (config = parseConfig(env)));
  return config;
}

function parseConfig(env: Env): Config {
  return {
    retentionMs: duration(env.RETENTION, DEFAULTS.retentionMs),
    defaultJobTimeoutMs: duration(env.DEFAULT_JOB_TIMEOUT, DEFAULTS.defaultJobTimeoutMs),
    alarmBudgetMs: duration(env.ALARM_BUDGET, DEFAULTS.alarmBudgetMs),
    batchWindowMs: duration(env.BATCH_WINDOW, DEFAULTS.batchWindowMs),
    maxBodyBytes: size(env.MAX_BODY_BYTES, DEFAULTS.maxBodyBytes),
    maxSubscribers: count(env.MAX_SUBSCRIBERS, DEFAULTS.maxSubscribers),
    maxSubscribersPerClient: count(env.MAX_SUBSCRIBERS_PER_CLIENT, DEFAULTS.maxSubscribersPerClient),
    maxActiveJobs: count(env.MAX_ACTIVE_JOBS, DEFAULTS.maxActiveJobs),
    indexShards: Math.min(64, count(env.INDEX_SHARDS, DEFAULTS.indexShards)),
    budget: parseBudget(env.JOB_BUDGET, DEFAULTS.budget),
    publicBudget: parseBudget(env.PUBLIC_JOB_BUDGET, DEFAULTS.publicBudget),
    // Checked a quarter of it apart: 0 would close every connection at once, and a timer's delay has a ceiling (2^31 ms).
    liveIdleMs: Math.min(Math.max(duration(env.LIVE_IDLE_TIMEOUT, DEFAULTS.liveIdleMs), 1_000), 86_400_000),
  };
}

/** The tighter of two budgets, limit by limit. */
export function tighter(a: Budget, b: Partial<Budget>): Budget {
  return {
    steps: Math.min(a.steps, b.steps ?? Infinity),
    events: Math.min(a.events, b.events ?? Infinity),
    bytes: Math.min(a.bytes, b.bytes ?? Infinity),
    runTimeMs: Math.min(a.runTimeMs, b.runTimeMs ?? Infinity),
  };
}

import type { Env } from "./env";
import { parseDuration } from "./lib/duration";

/** Limits and tuning, read from vars; every value has a default so a var may be left out. */
export interface Config {
  retentionMs: number;
  defaultJobTimeoutMs: number;
  maxJobTimeoutMs: number;
  alarmBudgetMs: number;
  progressWindowMs: number;
  maxEvents: number;
  maxBodyBytes: number;
  maxSubscribers: number;
}

export const DEFAULTS: Config = {
  retentionMs: 7 * 86_400_000,
  defaultJobTimeoutMs: 3_600_000,
  maxJobTimeoutMs: 7 * 86_400_000,
  alarmBudgetMs: 5_000,
  progressWindowMs: 250,
  maxEvents: 10_000,
  maxBodyBytes: 65_536,
  maxSubscribers: 1_000,
};

function duration(value: string | undefined, fallback: number): number {
  return value === undefined ? fallback : (parseDuration(value) ?? fallback);
}

function count(value: string | undefined, fallback: number): number {
  const n = value === undefined ? NaN : Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

export function readConfig(env: Env): Config {
  return {
    retentionMs: duration(env.RETENTION, DEFAULTS.retentionMs),
    defaultJobTimeoutMs: duration(env.DEFAULT_JOB_TIMEOUT, DEFAULTS.defaultJobTimeoutMs),
    maxJobTimeoutMs: duration(env.MAX_JOB_TIMEOUT, DEFAULTS.maxJobTimeoutMs),
    alarmBudgetMs: duration(env.ALARM_BUDGET, DEFAULTS.alarmBudgetMs),
    progressWindowMs: duration(env.PROGRESS_WINDOW, DEFAULTS.progressWindowMs),
    maxEvents: count(env.MAX_EVENTS, DEFAULTS.maxEvents),
    maxBodyBytes: count(env.MAX_BODY_BYTES, DEFAULTS.maxBodyBytes),
    maxSubscribers: count(env.MAX_SUBSCRIBERS, DEFAULTS.maxSubscribers),
  };
}

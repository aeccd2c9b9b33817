// Vars become bounded settings: a value that would break the app is held to its range.
import { expect, it } from "vitest";
import { configProblems, readConfig } from "../../src/config";
import type { Env } from "../../src/env";

const config = (vars: Partial<Env>) => readConfig(vars as Env);

it("holds LIVE_IDLE_TIMEOUT between a second and a day: 0 would close every connection at once", () => {
  expect(config({}).liveIdleMs).toBe(60_000);
  expect(config({ LIVE_IDLE_TIMEOUT: "0" }).liveIdleMs).toBe(1_000);
  expect(config({ LIVE_IDLE_TIMEOUT: "400 days" }).liveIdleMs).toBe(86_400_000);
  expect(config({ LIVE_IDLE_TIMEOUT: "5 minutes" }).liveIdleMs).toBe(300_000);
});

it("takes MAX_BODY_BYTES as bytes or KiB/MiB, as the README's Limits say, and reports one that is neither", () => {
  expect(config({ MAX_BODY_BYTES: "65536" }).maxBodyBytes).toBe(65_536);
  expect(config({ MAX_BODY_BYTES: "128 KiB" }).maxBodyBytes).toBe(131_072);
  expect(config({ MAX_BODY_BYTES: "1 MiB" }).maxBodyBytes).toBe(1 << 20);
  expect(configProblems({ MAX_BODY_BYTES: "128 KiB" } as Env)).toEqual([]);
  expect(configProblems({ MAX_BODY_BYTES: "0" } as Env)).toEqual([expect.stringContaining("MAX_BODY_BYTES is \"0\"")]);
  expect(configProblems({ MAX_BODY_BYTES: "64 KB" } as Env)).toEqual([expect.stringContaining("MAX_BODY_BYTES is \"64 KB\"")]);
});

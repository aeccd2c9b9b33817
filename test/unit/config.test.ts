// Vars become bounded settings: a value that would break the app is held to its range.
import { expect, it } from "vitest";
import { readConfig } from "../../src/config";
import type { Env } from "../../src/env";

const config = (vars: Partial<Env>) => readConfig(vars as Env);

it("holds LIVE_IDLE_TIMEOUT between a second and a day: 0 would close every connection at once", () => {
  expect(config({}).liveIdleMs).toBe(60_000);
  expect(config({ LIVE_IDLE_TIMEOUT: "0" }).liveIdleMs).toBe(1_000);
  expect(config({ LIVE_IDLE_TIMEOUT: "400 days" }).liveIdleMs).toBe(86_400_000);
  expect(config({ LIVE_IDLE_TIMEOUT: "5 minutes" }).liveIdleMs).toBe(300_000);
});

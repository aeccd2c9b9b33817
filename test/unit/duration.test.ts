import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { durationInput } from "../../src/jobs/duration-input";
import { parseDuration, toMs } from "../../src/lib/duration";
import { jsonSchemaOf } from "../../src/lib/json-schema";

describe("parseDuration", () => {
  it.each([
    [0, 0], [1500, 1500], ["250 ms", 250], ["10 seconds", 10_000], ["1 second", 1_000], ["2.5s", 2_500],
    ["5 minutes", 300_000], ["1 hour", 3_600_000], ["7 days", 604_800_000], ["1 week", 604_800_000], ["42", 42], [" 3 MIN ", 180_000],
  ] as const)("%j is %d ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([-1, NaN, Infinity, "", "soon", "5 fortnights", "-5 s", "1e3", "5 s s"])("refuses %j", (input) => {
    expect(parseDuration(input)).toBeNull();
  });

  it("toMs throws on what parseDuration refuses", () => {
    expect(() => toMs("soon")).toThrow(TypeError);
  });
});

describe("durationInput", () => {
  const schema = durationInput("30 days");

  it("takes what parseDuration reads, up to its maximum, and says what it expects otherwise", () => {
    for (const ok of [0, 1_500, "30 seconds", "30 days"]) expect(v.safeParse(schema, ok).success).toBe(true);
    for (const bad of ["30 secs", -5, "31 days", true]) expect(v.safeParse(schema, bad).success, JSON.stringify(bad)).toBe(false);
    expect(v.safeParse(schema, "31 days").issues?.[0]?.message).toBe('Expected a duration up to 30 days: milliseconds or a string such as "30 seconds"');
  });

  it("marks its JSON Schema with the maximum, for the start page's check", () => {
    expect(jsonSchemaOf(schema)).toMatchObject({ anyOf: [{ type: "number" }, { type: "string" }], "x-duration": { maxMs: 30 * 86_400_000 } });
  });
});

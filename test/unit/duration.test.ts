import { describe, expect, it } from "vitest";
import { parseDuration, toMs } from "../../src/lib/duration";

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

// A step's and a job's result are stored as JSON and every replay gets the JSON back, so
// their types take only what JSON keeps as it is. These are checked by `npm run typecheck`
// (each @ts-expect-error fails it if the line compiles) and by the engine at run time.
import { expect, expectTypeOf, it } from "vitest";
import { defineJob, type Step } from "../../src/jobs/define";
import { toStoredJson } from "../../src/job/engine";
import * as v from "valibot";

declare const step: Step;

interface Report {
  title: string;
  rows: { id: number; tags: string[]; note?: string }[];
  total: number | null;
}

it("types data, arrays, optional fields, interfaces and nothing as themselves", () => {
  const results = () => ({
    report: step.do("report", async (): Promise<Report> => ({ title: "t", rows: [{ id: 1, tags: [] }], total: null })),
    tuple: step.do("tuple", () => [1, "a", true] as const),
    nothing: step.do("nothing", async () => {}),
  });
  expectTypeOf<Awaited<ReturnType<typeof results>["report"]>>().toEqualTypeOf<Report>();
  expectTypeOf<Awaited<ReturnType<typeof results>["nothing"]>>().toEqualTypeOf<void>();
  const report: Report = { title: "t", rows: [{ id: 1, tags: ["a"] }], total: 3 };
  expect(JSON.parse((toStoredJson(report) as { text: string }).text)).toEqual(report);
});

it("refuses what JSON would change: a Date, a Map, a Set, a function, a bigint, an object with methods", () => {
  const refused = () => {
    // @ts-expect-error A Date comes back a string.
    void step.do("date", () => new Date(0));
    // @ts-expect-error A Map comes back {}.
    void step.do("map", () => new Map([["a", 1]]));
    // @ts-expect-error A Set comes back {}.
    void step.do("set", () => ({ seen: new Set([1]) }));
    // @ts-expect-error A function is dropped.
    void step.do("callback", () => ({ done: () => true }));
    // @ts-expect-error A bigint does not serialize at all.
    void step.do("big", () => ({ n: 1n }));
    // In an array or a union too: an array of functions comes back nulls.
    // @ts-expect-error A function in an array comes back null.
    void step.do("callbacks", () => [() => true]);
    // @ts-expect-error A function in a union is dropped.
    void step.do("maybe-callback", () => ({ done: null as (() => boolean) | null }));
    // @ts-expect-error A bigint in a union does not serialize.
    void step.do("big-or-not", () => ({ n: 1 as number | bigint }));
    // @ts-expect-error A bigint in an array does not serialize.
    void step.do("bigs", () => [1n]);
    class Point {
      constructor(readonly x: number) {}
      length(): number {
        return this.x;
      }
    }
    // @ts-expect-error Its method would be gone.
    void step.do("point", () => new Point(1));
    // A job's own result, too.
    // @ts-expect-error A Date comes back a string.
    defineJob({ type: "dated", description: "", input: v.object({}), inputJsonSchema: {}, example: {}, run: async () => new Date(0) });
  };
  expect(typeof refused).toBe("function");
  expect(toStoredJson(new Date(0))).toEqual({ text: '"1970-01-01T00:00:00.000Z"' }); // what the types guard against
});

it("fails, rather than throws, a result that JSON.stringify cannot write: a bigint, a cycle", () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  for (const value of [1n, cycle]) expect(toStoredJson(value)).toEqual({ problem: expect.stringMatching(/^is not JSON \(.+\)$/s) });
});

// liveJobs({ types }) refuses a list it cannot serve at once, saying what is wrong, when
// the Worker loads: not a TypeError about `.type`, and not at the first request.
import { expect, it } from "vitest";
import { JOB_TYPES } from "../../app/jobs";
import { JobRegistry } from "../../src/jobs/registry";

const [demo] = JOB_TYPES;

it("names an entry that is undefined: a definition used before it was defined", () => {
  expect(() => new JobRegistry([demo, undefined as never])).toThrow("liveJobs({ types }): types[1] is undefined (used before it was defined?");
  expect(() => new JobRegistry([{ name: "demo" } as never])).toThrow("types[0] is not a job type from defineJob");
});

it("refuses a type defined twice", () => {
  expect(() => new JobRegistry([demo, demo])).toThrow(`Job type "${demo.type}" is defined twice`);
});

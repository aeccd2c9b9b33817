import { registerJobType } from "../src/jobs";
import { fixtureJobTypes } from "./fixtures/jobs";

for (const definition of fixtureJobTypes) registerJobType(definition);

export * from "../src/index";
export { default } from "../src/index";

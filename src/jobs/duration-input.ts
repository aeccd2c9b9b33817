// An input property that takes a duration as job code writes one: milliseconds or a
// string such as "30 seconds" (src/lib/duration.ts).
import * as v from "valibot";
import { parseDuration, toMs, type Duration } from "../lib/duration";

/**
 * A duration up to `max`. JSON Schema cannot say what the check does, so its JSON Schema
 * (jsonSchemaOf) carries `"x-duration": { maxMs }`: the start page then checks the field
 * as it is typed (src/client/schema-fields.ts), with the same parser.
 */
export function durationInput(max: Duration) {
  const maxMs = toMs(max);
  return v.pipe(
    v.union([v.number(), v.string()]),
    v.check((value) => {
      const ms = parseDuration(value);
      return ms !== null && ms <= maxMs;
    }, `Expected a duration up to ${max}: milliseconds or a string such as "30 seconds"`),
    v.metadata({ "x-duration": { maxMs } }),
  );
}

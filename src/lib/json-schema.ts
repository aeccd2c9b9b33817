import { toJsonSchema } from "@valibot/to-json-schema";
import type { GenericSchema } from "valibot";
import type { Json } from "../protocol";

/** JSON Schema of a valibot schema, as plain JSON for the job-types listing. */
export function jsonSchemaOf(schema: GenericSchema): Json {
  return JSON.parse(JSON.stringify(toJsonSchema(schema, { errorMode: "ignore" }))) as Json;
}

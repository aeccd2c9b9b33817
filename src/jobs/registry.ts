// The application's job types, handed to the app and the job object by the factory
// (src/server.ts) rather than kept in a global list.
import type { JobTypeInfo } from "../protocol";
import type { AnyJobDefinition } from "./define";

export class JobRegistry {
  readonly #byType: ReadonlyMap<string, AnyJobDefinition>;

  constructor(readonly definitions: readonly AnyJobDefinition[]) {
    const byType = new Map<string, AnyJobDefinition>();
    for (const [index, definition] of definitions.entries()) {
      // A list built before one of its modules finished loading (an import cycle, or a list
      // above a definition in one file) holds undefined: say so rather than fail on `.type`.
      if (typeof definition?.type !== "string") throw new Error(`liveJobs({ types }): types[${index}] is ${definition === undefined ? "undefined (used before it was defined? check the order of definitions and imports)" : "not a job type from defineJob"}`);
      if (byType.has(definition.type)) throw new Error(`Job type "${definition.type}" is defined twice`);
      byType.set(definition.type, definition);
    }
    this.#byType = byType;
  }

  find(type: string): AnyJobDefinition | undefined {
    return this.#byType.get(type);
  }

  get names(): string[] {
    return [...this.#byType.keys()];
  }

  /** What /job-types and the start page show of each type, for the types `include` accepts. */
  infos(include: (definition: AnyJobDefinition) => boolean = () => true): JobTypeInfo[] {
    return this.definitions.filter(include).map((d) => ({
      type: d.type, description: d.description, inputSchema: d.inputJsonSchema, example: d.example,
    }));
  }
}

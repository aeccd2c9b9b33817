// One `wrangler dev` for the end-to-end tests, as a user runs it.
import type { TestProject } from "vitest/node";
import { startWranglerDev, type DevServer } from "./wrangler-dev";

let server: DevServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await startWranglerDev();
  project.provide("baseUrl", server.url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

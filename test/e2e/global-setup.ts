// One `wrangler dev` for the end-to-end tests, as a user runs it; webhooks may go to a
// receiver the tests run on a port chosen here.
import type { TestProject } from "vitest/node";
import { freePort, startWranglerDev, WEBHOOK_SECRET, type DevServer } from "./wrangler-dev";

let server: DevServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  const webhookPort = await freePort();
  server = await startWranglerDev({ vars: { WEBHOOK_SECRET, WEBHOOK_ORIGINS: `http://127.0.0.1:${webhookPort}` } });
  project.provide("baseUrl", server.url);
  project.provide("webhookPort", webhookPort);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    webhookPort: number;
  }
}

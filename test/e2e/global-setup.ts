// One `wrangler dev` for the end-to-end tests, as a user runs it; webhooks may go to a
// receiver the tests run on a port chosen here. One Chromium too, which the browser tests
// connect to (test/e2e/browser.ts), started meanwhile.
import { chromium as playwright, type BrowserServer } from "playwright-core";
import type { TestProject } from "vitest/node";
import { freePort, startWranglerDev, WEBHOOK_SECRET, type DevServer } from "./wrangler-dev";

let server: DevServer | undefined;
let chromium: BrowserServer | undefined;

/** Debian's Chromium, driven by playwright-core. */
function launchChromiumServer(): Promise<BrowserServer> {
  return playwright.launchServer({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    timeout: 30_000,
  });
}

export async function setup(project: TestProject): Promise<void> {
  const webhookPort = await freePort();
  const started = await Promise.allSettled([
    startWranglerDev({ vars: { WEBHOOK_SECRET, WEBHOOK_ORIGINS: `http://127.0.0.1:${webhookPort}` } }).then((dev) => (server = dev)),
    launchChromiumServer().then((browser) => (chromium = browser)),
  ]);
  const failed = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (failed) {
    await teardown();
    throw failed.reason;
  }
  project.provide("baseUrl", server!.url);
  project.provide("webhookPort", webhookPort);
  project.provide("chromiumEndpoint", chromium!.wsEndpoint());
}

export async function teardown(): Promise<void> {
  await Promise.all([server?.stop(), chromium?.close()]);
}

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    webhookPort: number;
    chromiumEndpoint: string;
  }
}

// Debian's Chromium driven by playwright-core, and small waits on page states, for the
// browser tests. No test-runner assertions from Playwright: each wait has a timeout and
// fails the test with what the page showed instead.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContextOptions, type Page } from "playwright-core";
import { afterAll, beforeAll, inject } from "vitest";
import type { CreatedJob, Json } from "../../src/protocol";
import { E2E_TOKEN } from "./wrangler-dev";

export const SCREENSHOTS = join(import.meta.dirname, "../../test-results/screenshots");

/**
 * A browser of the run's one Chromium (launched by test/e2e/global-setup.ts): a connection
 * of its own, whose contexts close with it. Launching one per file cost each file a second or so.
 */
export function connectChromium(): Promise<Browser> {
  return chromium.connect(inject("chromiumEndpoint"), { timeout: 30_000 });
}

/** One browser for a test file: connected before its tests, closed after them. */
export function useChromium(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await connectChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => browser!;
}

/**
 * A page that records what went wrong in it: script errors, console errors (CSP violations
 * land there) and failed subresources. A 404 page's own status is not a problem.
 */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, ...options });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // Failed loads are reported below with their URL.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource: the server responded")) problems.push(`console error: ${message.text()}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400 && response.request().resourceType() !== "document") problems.push(`${response.status()} ${response.url()}`);
  });
  return { page, problems };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Waits until the element's text matches; on timeout, says what it was. */
export async function waitForText(page: Page, selector: string, expected: string | RegExp, timeout = 20_000): Promise<void> {
  const pattern = typeof expected === "string" ? { source: `^${expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, flags: "" } : { source: expected.source, flags: expected.flags };
  try {
    await page.waitForFunction(
      ([selector, source, flags]) => new RegExp(source!, flags).test(document.querySelector(selector!)?.textContent?.trim() ?? ""),
      [selector, pattern.source, pattern.flags],
      { timeout },
    );
  } catch (error) {
    const actual = await page.locator(selector).first().textContent({ timeout: 1_000 }).catch(() => "(no such element)");
    throw new Error(`${selector} never showed ${String(expected)} within ${timeout} ms; it shows ${JSON.stringify(actual?.trim())}`, { cause: error });
  }
}

export async function waitForLogLines(page: Page, count: number, timeout = 20_000): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll("#log .log-line").length >= n, count, { timeout });
}

export async function logMessages(page: Page): Promise<string[]> {
  return page.locator("#log .log-message").allTextContents();
}

export async function logSeqs(page: Page): Promise<number[]> {
  return page.locator("#log .log-line").evaluateAll((items) => items.map((item) => Number((item as HTMLElement).dataset.seq)));
}

/** Creates a job as the tests' owner, through the API; `more` goes in the body too (a webhook). */
export async function createJob(baseUrl: string, type: string, input: Json, more: Record<string, Json> = {}): Promise<CreatedJob> {
  const response = await fetch(`${baseUrl}/jobs`, {
    method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${E2E_TOKEN}` }, body: JSON.stringify({ ...more, type, input }),
  });
  if (response.status !== 201) throw new Error(`POST /jobs answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as CreatedJob;
}

/** Gives a browser the job's control cookie, as the server does for a job started from the form. */
export async function holdControl(page: Page, job: CreatedJob): Promise<void> {
  const url = new URL(job.urls.page);
  await page.context().addCookies([{ name: "control", value: job.controlToken!, domain: url.hostname, path: url.pathname, httpOnly: true, sameSite: "Strict" }]);
}

export async function jobState(baseUrl: string, id: string): Promise<string> {
  const response = await fetch(`${baseUrl}/jobs/${id}`);
  return ((await response.json()) as { state: string }).state;
}

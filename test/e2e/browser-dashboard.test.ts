// The dashboard in Chromium: sign in with a token, the list updates live as jobs progress
// and end, filters (whose URLs carry only the fields filled in), run again, and the plain
// paged list without JavaScript.
import type { Page } from "playwright-core";
import { expect, inject, it } from "vitest";
import type { CreatedJob } from "../../src/protocol";
import { openPage, screenshot, useChromium, waitForText } from "./browser";
import { E2E_TOKEN } from "./wrangler-dev";

const baseUrl = inject("baseUrl");

const browser = useChromium();

async function create(type: string, input: unknown, tags: string[] = []): Promise<CreatedJob> {
  const response = await fetch(`${baseUrl}/jobs`, {
    method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${E2E_TOKEN}` }, body: JSON.stringify({ type, input, tags }),
  });
  if (response.status !== 201) throw new Error(`POST /jobs answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as CreatedJob;
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${baseUrl}/dashboard`);
  await page.fill("#credential", E2E_TOKEN);
  await Promise.all([page.waitForURL(`${baseUrl}/dashboard`), page.click("#sign-in button")]);
}

const row = (id: string) => `tr[data-job="${id}"]`;

it("keeps the list live as jobs start, progress and end; filters; runs a job again", { timeout: 90_000 }, async () => {
  const tag = `e2e-${Date.now()}`;
  const { page, problems } = await openPage(browser());
  await signIn(page);
  await waitForText(page, "#live-status", "Live");

  // A job created after the page loaded appears at the top and goes live to its end.
  const job = await create("echo", { lines: ["one", "two", "three", "four"], delayMs: 700 }, [tag]);
  await waitForText(page, `${row(job.id)} .badge`, /^(Queued|Running|Waiting)$/);
  await waitForText(page, `${row(job.id)} .progress-note`, /^\d+ %$/);
  await screenshot(page, "dashboard-running");
  const succeededBefore = Number(await page.textContent("#count-succeeded"));
  await waitForText(page, `${row(job.id)} .badge`, "Succeeded", 30_000);
  await waitForText(page, `${row(job.id)} .progress-note`, "100 %");
  // The counts follow the feed too.
  await waitForText(page, "#count-succeeded", String(succeededBefore + 1));
  expect(await page.isVisible(`${row(job.id)} form.cancel`)).toBe(false);
  expect(await page.textContent(`${row(job.id)} .took`)).toMatch(/^[\d.]+ s$/);

  // Cancel from the list.
  const slow = await create("sleepy", { duration: "5 minutes" }, [tag]);
  await waitForText(page, `${row(slow.id)} .badge`, /^(Queued|Running|Waiting)$/);
  await Promise.all([page.waitForURL(`${baseUrl}/dashboard`), page.click(`${row(slow.id)} form.cancel button`)]);
  await waitForText(page, `${row(slow.id)} .badge`, "Canceled");

  // Filters: by tag and state, from the form.
  await page.fill('.filters input[name="tag"]', tag);
  await page.selectOption('.filters select[name="state"]', "succeeded");
  // The URL carries the fields that were filled in only (no `type=`).
  await Promise.all([page.waitForURL(`${baseUrl}/dashboard?state=succeeded&tag=${tag}`), page.click(".filters button")]);
  expect(await page.locator("#jobs tr").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.job))).toEqual([job.id]);
  await screenshot(page, "dashboard-filtered");

  // Run again: a new job of the same type and input, and its page.
  await Promise.all([page.waitForURL(/\/jobs\/[\w-]{32}$/), page.click(`${row(job.id)} form.rerun button`)]);
  expect(page.url()).not.toContain(job.id);
  await waitForText(page, "#job-type", "echo");
  await waitForText(page, "#job-state", "Succeeded", 30_000);
  expect(await page.locator("#log .log-message").allTextContents()).toEqual(["one", "two", "three", "four"]);

  // A filtered list that empties as its last job leaves it says so.
  await page.goto(`${baseUrl}/dashboard?state=waiting&tag=${tag}-nap`);
  await waitForText(page, "#live-status", "Live");
  expect(await page.isVisible("#no-jobs")).toBe(true);
  const napper = await create("sleepy", { duration: "3 seconds" }, [`${tag}-nap`]);
  await waitForText(page, `${row(napper.id)} .badge`, "Waiting");
  expect(await page.isVisible("#no-jobs")).toBe(false);
  await page.waitForSelector(row(napper.id), { state: "detached", timeout: 30_000 });
  expect(await page.isVisible("#no-jobs")).toBe(true);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("works without JavaScript: a plain list, paged", { timeout: 60_000 }, async () => {
  const tag = `nojs-${Date.now()}`;
  for (let i = 0; i < 3; i++) await create("demo", { intervalMs: 0 }, [tag]);
  const { page } = await openPage(browser(), { javaScriptEnabled: false });
  await signIn(page);
  // The filter form's URL carries the fields that were filled in only.
  await page.fill('.filters input[name="tag"]', tag);
  await Promise.all([page.waitForURL(`${baseUrl}/dashboard?tag=${tag}`), page.click(".filters button")]);
  expect(await page.locator("#jobs tr").count()).toBe(3);
  await page.goto(`${baseUrl}/dashboard?tag=${tag}&limit=2`);
  expect(await page.locator("#jobs tr").count()).toBe(2);
  await Promise.all([page.waitForURL(/cursor=/), page.click("#older")]);
  expect(await page.locator("#jobs tr").count()).toBe(1);
  await screenshot(page, "dashboard-no-js");
  await page.context().close();
});

// The pages at 320 CSS px wide (a small phone, or a laptop's window at 400 % zoom): nothing
// scrolls sideways, whatever text they show (WCAG 1.4.10), as a refused form, a failed
// cancel or a long word would otherwise make them.
import type { Page } from "playwright-core";
import { expect, inject, it } from "vitest";
import type { CreatedJob } from "../../src/protocol";
import { createJob, holdControl, openPage, useChromium, waitForText } from "./browser";
import { E2E_TOKEN } from "./wrangler-dev";

const baseUrl = inject("baseUrl");

const browser = useChromium();

const narrow = { viewport: { width: 320, height: 640 } };

/** How far the page reaches past its window's width; 0 when nothing scrolls sideways. */
const sideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

const unknownField = `unknownPropertyWithAVeryLongName_${"x".repeat(40)}`;

it("the start page: a long unknown field's name in its errors wraps, with or without JavaScript", async () => {
  for (const javaScriptEnabled of [true, false]) {
    const { page } = await openPage(browser(), { ...narrow, javaScriptEnabled });
    await page.goto(`${baseUrl}/?type=echo`);
    expect(await sideways(page)).toBe(0);
    await page.fill("#input", JSON.stringify({ lines: ["x"], [unknownField]: 1 }));
    await page.click("#start");
    // With JavaScript the form says so under the box; without, the server's page lists it.
    await waitForText(page, javaScriptEnabled ? "#input-error" : "#form-errors", new RegExp(unknownField));
    expect(await sideways(page)).toBe(0);
    await page.context().close();
  }
});

it("the job page: a cancel's failure, however long its words, wraps beside the button", async () => {
  const job = await createJob(baseUrl, "sleepy", { duration: "5 minutes" });
  const { page } = await openPage(browser(), narrow);
  await holdControl(page, job);
  await page.goto(job.urls.page);
  await waitForText(page, "#live-status", "Live");
  expect(await sideways(page)).toBe(0);
  const message = `The service said ${"no".repeat(60)}`;
  await page.route(job.urls.cancel, (route) => route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ error: { code: "unavailable", message } }) }));
  await page.click("#cancel-ask");
  await page.click("#cancel-yes");
  await waitForText(page, "#cancel-error", message);
  expect(await sideways(page)).toBe(0);
  await page.context().close();
});

it("the dashboard: a row with a long tag, its Cancel's question or its failure fits, Run again in view, at 320 px and at 200 % zoom", { timeout: 60_000 }, async () => {
  const tag = `narrow${Date.now()}`;
  const response = await fetch(`${baseUrl}/jobs`, {
    method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${E2E_TOKEN}` },
    body: JSON.stringify({ type: "sleepy", input: { duration: "5 minutes" }, tags: [tag, "T".repeat(40)] }),
  });
  const job = (await response.json()) as CreatedJob;
  // 683 px: a 1366 px laptop's window at 200 %, where the table's columns once left Run again off-screen.
  for (const width of [320, 683]) {
    const { page } = await openPage(browser(), { viewport: { width, height: 800 } });
    await page.goto(`${baseUrl}/dashboard`);
    await page.fill("#credential", E2E_TOKEN);
    await Promise.all([page.waitForURL(`${baseUrl}/dashboard`), page.click("#sign-in button")]);
    await page.goto(`${baseUrl}/dashboard?tag=${tag}`);
    const row = `tr[data-job="${job.id}"]`;
    const runAgainInView = () => page.$eval(`${row} form.rerun button`, (button) => button.getBoundingClientRect().right <= document.documentElement.clientWidth);
    expect(await sideways(page)).toBe(0);
    expect(await runAgainInView()).toBe(true);
    await page.click(`${row} .ask`);
    expect(await sideways(page)).toBe(0);
    expect(await runAgainInView()).toBe(true);
    await page.route(job.urls.cancel, (route) => route.abort("failed"));
    await page.click(`${row} .yes`);
    await waitForText(page, `${row} .cancel-error`, "Could not reach the server; try again");
    expect(await sideways(page)).toBe(0);
    expect(await runAgainInView()).toBe(true);
    // The rows are cards here, yet a screen reader still has each cell's column.
    expect(await page.getByRole("columnheader", { name: "State" }).count()).toBe(1);
    await page.context().close();
  }
});

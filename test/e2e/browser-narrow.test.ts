// The pages at 320 CSS px wide (a small phone, or a laptop's window at 400 % zoom): nothing
// scrolls sideways, whatever text they show (WCAG 1.4.10), as a refused form, a failed
// cancel or a long word would otherwise make them.
import type { Page } from "playwright-core";
import { expect, inject, it } from "vitest";
import { createJob, holdControl, openPage, useChromium, waitForText } from "./browser";

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

// What a screen reader hears of the job page: a job that logs 50 lines a second must not
// keep it talking (the log list is not a live region), yet what a job logs and how far it
// got are said, one sentence at most every few seconds; a replayed history is not news.
import type { Page } from "playwright-core";
import { expect, inject, it } from "vitest";
import { createJob, jobState, openPage, useChromium, waitForText } from "./browser";

const baseUrl = inject("baseUrl");

const browser = useChromium();

/**
 * Records every change a screen reader would announce: for each task's DOM changes, the
 * live regions they touched (an element with aria-live other than "off", or a role that
 * implies one), and the texts the page's news said.
 */
async function recordAnnouncements(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const said: { region: string; text: string }[] = [];
    (window as unknown as { said: typeof said }).said = said;
    const regionOf = (node: Node): Element | null => {
      for (let element = node instanceof Element ? node : node.parentElement; element; element = element.parentElement) {
        const live = element.getAttribute("aria-live");
        if (live) return live === "off" ? null : element;
        if (["log", "status", "alert"].includes(element.getAttribute("role") ?? "")) return element;
      }
      return null;
    };
    addEventListener("DOMContentLoaded", () => {
      new MutationObserver((records) => {
        const regions = new Set(records.map((record) => regionOf(record.target)).filter((region) => region !== null));
        for (const region of regions) said.push({ region: region.id, text: region.textContent ?? "" });
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
  });
}

const announcements = (page: Page) => page.evaluate(() => (window as unknown as { said: { region: string; text: string }[] }).said);

it("tells a screen reader what a job logging 50 lines a second logs in a sentence every few seconds, not line by line", { timeout: 60_000 }, async () => {
  const job = await createJob(baseUrl, "ticker", { count: 400, intervalMs: 20 });
  const { page, problems } = await openPage(browser());
  await recordAnnouncements(page);
  await page.goto(job.urls.page);
  expect(await page.getAttribute("#log", "aria-live")).toBe("off");
  await waitForText(page, "#job-state", "Succeeded", 30_000);
  await waitForText(page, "#job-news", /tick 400\/400/);
  const said = await announcements(page);
  const news = said.filter((a) => a.region === "job-news").map((a) => a.text);
  // 8 s of ticks: the first at once, then one every 5 s at most, and the end's.
  expect(news.length).toBeGreaterThanOrEqual(2);
  expect(news.length).toBeLessThanOrEqual(4);
  for (const text of news) expect(text).toMatch(/^(Log: tick \d+\/400 t=\d+|[\d,]+ new log lines; the latest: tick \d+\/400 t=\d+)$/);
  // Everything else the page announced: its state and its connection, a few times.
  expect(said.filter((a) => a.region !== "job-news").length).toBeLessThanOrEqual(6);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("says each line of a slow job, with its progress, and nothing of the history a finished job's page replays", { timeout: 60_000 }, async () => {
  const job = await createJob(baseUrl, "echo", { lines: ["Hello", "from a Durable Object"], delayMs: 6_000 });
  const { page, problems } = await openPage(browser());
  await recordAnnouncements(page);
  await page.goto(job.urls.page);
  await waitForText(page, "#job-state", "Succeeded", 30_000);
  await waitForText(page, "#job-news", /from a Durable Object/);
  const news = (await announcements(page)).filter((a) => a.region === "job-news").map((a) => a.text);
  expect(news).toEqual(["50 % done. Log: Hello", "Log: from a Durable Object"]);

  // The same job's page opened now replays its log: not news.
  const { page: later } = await openPage(browser());
  await recordAnnouncements(later);
  await later.goto(job.urls.page);
  await later.waitForSelector('#live-status[data-status="ended"]', { state: "attached" });
  expect(await jobState(baseUrl, job.id)).toBe("succeeded");
  expect(await later.textContent("#job-news")).toBe("");
  expect(problems).toEqual([]);
  await page.context().close();
  await later.context().close();
});

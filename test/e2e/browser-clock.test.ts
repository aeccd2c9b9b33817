// A browser whose clock is off (a wrong time zone setting, a clock never synced) shows the
// job page's and the dashboard's times as the server counts them, not from its own clock:
// the times it counts from (a job's creation, a step's wake-up) are the server's.
import type { Page } from "playwright-core";
import { expect, inject, it } from "vitest";
import { createJob, openPage, useChromium, waitForText } from "./browser";
import { E2E_TOKEN } from "./wrangler-dev";

const baseUrl = inject("baseUrl");

const browser = useChromium();

/** Three hours either way, as a browser set to the wrong time zone may be. */
const OFF_BY_MS = 3 * 3_600_000;

async function openWithClockOff(offByMs: number): Promise<{ page: Page; problems: string[] }> {
  const opened = await openPage(browser());
  await opened.page.clock.install({ time: Date.now() + offByMs });
  return opened;
}

/** What the page shows once its own script has drawn it (the clock ticks every second), not the server's first render. */
async function shownAfterTicks(page: Page, selector: string): Promise<string> {
  await page.waitForTimeout(1_500);
  return (await page.textContent(selector))!.trim();
}

it("job page: a step wakes and time elapses by the server's clock, whether the browser's is ahead or behind", async () => {
  for (const offBy of [OFF_BY_MS, -OFF_BY_MS]) {
    const job = await createJob(baseUrl, "sleepy", { duration: "10 minutes" });
    const { page, problems } = await openWithClockOff(offBy);
    await page.goto(job.urls.page);
    await waitForText(page, "#live-status", "Live");
    await waitForText(page, "#job-state", "Waiting");
    expect(await shownAfterTicks(page, "#steps .step-sleeping .step-detail")).toMatch(/^sleeping, wakes in (9|10) min \d+ s$/);
    expect(await page.textContent("#elapsed")).toMatch(/^[1-9][\d.]* s$/);
    expect(problems).toEqual([]);
    await page.context().close();
    await fetch(job.urls.cancel, { method: "POST", headers: { Authorization: `Bearer ${E2E_TOKEN}` } });
  }
});

it("dashboard: a job's age and how long it took count by the server's clock, whether the browser's is ahead or behind", async () => {
  for (const offBy of [OFF_BY_MS, -OFF_BY_MS]) {
    const job = await createJob(baseUrl, "sleepy", { duration: "10 minutes" });
    const { page, problems } = await openWithClockOff(offBy);
    await page.goto(`${baseUrl}/dashboard`);
    await page.fill("#credential", E2E_TOKEN);
    await Promise.all([page.waitForURL(`${baseUrl}/dashboard`), page.click("#sign-in button")]);
    const row = `tr[data-job="${job.id}"]`;
    await waitForText(page, `${row} .badge`, "Waiting");
    expect(await shownAfterTicks(page, `${row} time`)).toMatch(/^(just now|\d+ s ago)$/);
    expect(await page.textContent(`${row} .took`)).toMatch(/^[\d.]+ (ms|s)$/);
    expect(problems).toEqual([]);
    await page.context().close();
    await fetch(job.urls.cancel, { method: "POST", headers: { Authorization: `Bearer ${E2E_TOKEN}` } });
  }
});

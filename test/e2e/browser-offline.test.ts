// A page whose connection goes dead without closing (the network went; Chromium's offline
// mode keeps the socket open but carries nothing) says so at once instead of showing
// "Live" while nothing arrives, and catches up, nothing lost or twice, once back: the job
// page on its WebSocket, the dashboard on the owner feed's SSE.
import { expect, inject, it } from "vitest";
import { createJob, logMessages, logSeqs, openPage, useChromium, waitForText } from "./browser";
import { E2E_TOKEN } from "./wrangler-dev";

const baseUrl = inject("baseUrl");

const browser = useChromium();

it("job page: shows Reconnecting when the network goes, and catches up when it comes back", { timeout: 60_000 }, async () => {
  const job = await createJob(baseUrl, "echo", { lines: Array.from({ length: 20 }, (_, i) => `line ${i + 1}`), delayMs: 300 });
  const { page } = await openPage(browser());
  await page.goto(job.urls.page);
  await waitForText(page, "#live-status", "Live");
  await page.context().setOffline(true);
  await waitForText(page, "#live-status", "Reconnecting…", 5_000);
  await page.context().setOffline(false);
  await waitForText(page, "#job-state", "Succeeded", 40_000);
  // Every line once, in order.
  const seqs = await logSeqs(page);
  expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
  expect(await logMessages(page)).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 1}`));
  await page.context().close();
});

it("dashboard: shows Reconnecting when the network goes, and shows what changed meanwhile when it comes back", { timeout: 60_000 }, async () => {
  const { page } = await openPage(browser());
  await page.goto(`${baseUrl}/dashboard`);
  await page.fill("#credential", E2E_TOKEN);
  await Promise.all([page.waitForURL(`${baseUrl}/dashboard`), page.click("#sign-in button")]);
  await waitForText(page, "#live-status", "Live");
  await page.context().setOffline(true);
  await waitForText(page, "#live-status", "Reconnecting…", 5_000);
  const job = await createJob(baseUrl, "echo", { lines: ["offline"], delayMs: 0 });
  await page.context().setOffline(false);
  await waitForText(page, "#live-status", "Live", 20_000);
  await waitForText(page, `tr[data-job="${job.id}"] .badge`, "Succeeded");
  await page.context().close();
});

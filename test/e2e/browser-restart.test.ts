// The server goes away in the middle of a job: the page says it is reconnecting, picks the
// stream up again when `wrangler dev` is back (same port, same storage), and the job ends
// with every log line shown once. Then its retention ends and the page is a 410 Gone.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connectChromium, createJob, logMessages, logSeqs, openPage, waitForLogLines, waitForText } from "./browser";
import { freePort, startWranglerDev, type DevServer } from "./wrangler-dev";

let browser: Browser;
let server: DevServer | undefined;
beforeAll(async () => {
  browser = await connectChromium();
});
afterAll(async () => {
  await server?.stop();
  await browser?.close();
});

it("reconnects after a restart of wrangler dev and follows the job to its end", { timeout: 150_000 }, async () => {
  const port = await freePort();
  const persistTo = mkdtempSync(join(tmpdir(), "live-jobs-restart-"));
  // A retention short enough to end within the test, and long enough to outlast the page's
  // longest wait between reconnects (the client's backoff, up to 15 s after a long restart):
  // the job may end while the page waits, and must still be there when it comes back. (At
  // 2 s, a slow restart left a page that came back 15 s later to a job already gone.)
  const vars = { RETENTION: "20 seconds" };
  server = await startWranglerDev({ port, persistTo, vars });
  const expected = Array.from({ length: 8 }, (_, i) => `step ${i + 1} of 8`);
  const job = await createJob(server.url, "echo", { lines: expected, delayMs: 1_000 });

  const { page, problems } = await openPage(browser);
  await page.goto(job.urls.page);
  await waitForText(page, "#live-status", "Live");
  await waitForLogLines(page, 2);

  await server.stop();
  await waitForText(page, "#live-status", "Reconnecting…", 15_000);
  server = await startWranglerDev({ port, persistTo, vars });

  await waitForText(page, "#live-status", /^(Live|)$/, 30_000);
  await waitForText(page, "#job-state", "Succeeded", 40_000);
  // A page that reconnects after the job's end shows the new snapshot at once and the lines
  // it missed from the replay that follows (a batch later): wait for them, then hold them exact.
  await waitForLogLines(page, expected.length);
  expect(await logMessages(page)).toEqual(expected);
  const seqs = await logSeqs(page);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(JSON.parse((await page.textContent("#result"))!)).toEqual({ lines: expected });
  // The stream's failed reconnects while the server was down are the only errors allowed.
  expect(problems.filter((p) => !/\/sse\b|net::ERR_/.test(p))).toEqual([]);

  await expect.poll(() => fetch(job.urls.self).then((r) => r.status), { timeout: 40_000, interval: 250 }).toBe(410);
  const expired = await page.reload();
  expect(expired?.status()).toBe(410);
  await waitForText(page, "h1", "Gone");
  expect(await page.textContent(".lead")).toContain("retention period");
  await page.context().close();
});

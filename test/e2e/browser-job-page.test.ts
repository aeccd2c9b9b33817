// The job page in Chromium: cancel (asked first with JavaScript, at once without; why it
// failed, when it does), a reload in the middle of a job, retries in the step timeline,
// the log's scrolling, the copy buttons, and the 404 page (an expired job's is in
// browser-restart.test.ts).
import type { Page } from "playwright-core";
import { expect, inject, it } from "vitest";
import type { JobSnapshot } from "../../src/protocol";
import { E2E_TOKEN } from "./wrangler-dev";
import { createJob, holdControl, jobState, logMessages, logSeqs, openPage, useChromium, waitForLogLines, waitForText } from "./browser";

const baseUrl = inject("baseUrl");

const browser = useChromium();

const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);

it("asks in the page before it cancels: Keep it running (or Escape) changes nothing, Yes cancels", async () => {
  const job = await createJob(baseUrl, "echo", { lines: lines(30), delayMs: 1_000 });
  const { page, problems } = await openPage(browser());
  const posts: string[] = [];
  page.on("request", (request) => request.url() === job.urls.cancel && posts.push(request.method()));
  const focused = () => page.evaluate(() => document.activeElement?.id);
  await holdControl(page, job);
  await page.goto(job.urls.page);
  await waitForText(page, "#live-status", "Live");

  // A double click asks, no more: the question stands where the button was.
  await page.dblclick("#cancel-ask");
  await waitForText(page, "#cancel-question", "Cancel this job?");
  expect(await page.isVisible("#cancel-ask")).toBe(false);
  expect(await page.getAttribute("#cancel-confirm", "aria-labelledby")).toBe("cancel-question");
  await page.click("#cancel-keep");
  expect(await page.isVisible("#cancel-confirm")).toBe(false);
  expect(await focused()).toBe("cancel-ask");
  // A click asks with the safe choice focused.
  await page.click("#cancel-ask");
  expect(await focused()).toBe("cancel-keep");
  await page.keyboard.press("Enter");
  expect(await page.isVisible("#cancel-confirm")).toBe(false);
  expect(await focused()).toBe("cancel-ask");

  // From the keyboard: Enter asks, Escape backs out.
  await page.keyboard.press("Enter");
  expect(await page.isVisible("#cancel-confirm")).toBe(true);
  await page.keyboard.press("Escape");
  expect(await page.isVisible("#cancel-confirm")).toBe(false);
  expect(await focused()).toBe("cancel-ask");
  expect(posts).toEqual([]);
  expect(await jobState(baseUrl, job.id)).not.toBe("canceled");

  await page.click("#cancel-ask");
  await page.click("#cancel-yes");
  await waitForText(page, "#job-state", "Canceled");
  await waitForText(page, "#error-heading", "Canceled");
  expect(await page.textContent("#error-message")).toContain("The job was canceled");
  expect(await page.isVisible("#cancel-form")).toBe(false);
  // The keyboard moves on when the cancel's answer comes, which may be just after the live
  // stream has shown the end (the pressed button, disabled meanwhile, had let go of it).
  await expect.poll(focused).toBe("job-state");
  expect(posts).toEqual(["POST"]);
  expect(await jobState(baseUrl, job.id)).toBe("canceled");
  expect(problems).toEqual([]);
  await page.context().close();
});

it("says next to the buttons why a cancel failed, and clears it on the next attempt", async () => {
  const job = await createJob(baseUrl, "echo", { lines: lines(30), delayMs: 1_000 });
  const { page, problems } = await openPage(browser());
  await holdControl(page, job);
  await page.goto(job.urls.page);
  await waitForText(page, "#live-status", "Live");
  const cancel = async () => {
    await page.click("#cancel-ask");
    await page.click("#cancel-yes");
  };

  // No answer at all.
  await page.route(job.urls.cancel, (route) => route.abort("failed"));
  await cancel();
  await waitForText(page, "#cancel-error", "Could not reach the server; try again");
  expect(await page.getAttribute("#cancel-error", "role")).toBe("alert");
  expect(await page.isVisible("#cancel-ask")).toBe(true);
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("cancel-ask");
  await page.unroute(job.urls.cancel);

  // A refusal, said for a person: without its control cookie this browser may not cancel.
  await page.context().clearCookies();
  await cancel();
  await waitForText(page, "#cancel-error", "Only the job's owner, or the browser that started it, may cancel it");
  await holdControl(page, job);

  // An answer that is not the API's (a proxy's error page) says its status.
  await page.route(job.urls.cancel, (route) => route.fulfill({ status: 502, contentType: "text/html", body: "<h1>Bad gateway</h1>" }));
  await cancel();
  await waitForText(page, "#cancel-error", "Could not cancel: the server answered 502; try again");
  await page.unroute(job.urls.cancel);
  expect(await jobState(baseUrl, job.id)).not.toBe("canceled");

  // The next attempt clears the message as it starts, and this one cancels.
  let answer = () => {};
  await page.route(job.urls.cancel, async (route) => {
    await new Promise<void>((resolve) => (answer = resolve));
    await route.continue();
  });
  await cancel();
  await waitForText(page, "#cancel-error", "");
  answer();
  await waitForText(page, "#job-state", "Canceled");
  expect(await page.textContent("#cancel-error")).toBe("");
  expect(await jobState(baseUrl, job.id)).toBe("canceled");
  // The failures themselves, and nothing else.
  expect(problems).toEqual(["console error: Failed to load resource: net::ERR_FAILED", `401 ${job.urls.cancel}`, `502 ${job.urls.cancel}`]);
  await page.context().close();
});

it("moves the keyboard to the job's state when the job ends while Cancel asks", async () => {
  // Long enough that the page is live and asking before the job ends, with two test files at once on a loaded machine.
  const job = await createJob(baseUrl, "echo", { lines: lines(2), delayMs: 4_000 });
  const { page, problems } = await openPage(browser());
  await holdControl(page, job);
  await page.goto(job.urls.page);
  await waitForText(page, "#live-status", "Live");
  await page.click("#cancel-ask");
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("cancel-keep");
  await waitForText(page, "#job-state", "Succeeded");
  expect(await page.isVisible("#cancel-form")).toBe(false);
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("job-state");
  expect(problems).toEqual([]);
  await page.context().close();
});

type LogChange = { added: number; removed: number; lines: number; status: string };

/**
 * Watches the log and the live status of the page about to load: for each change, the lines
 * it added to and removed from the log, and the lines and the status it left; first, the
 * page as it was when the watch began.
 */
async function watchLog(page: Page): Promise<() => Promise<LogChange[]>> {
  await page.addInitScript(() => {
    const changes: LogChange[] = ((window as unknown as { logChanges: typeof changes }).logChanges = []);
    addEventListener("DOMContentLoaded", () => {
      const log = document.getElementById("log")!;
      const status = document.getElementById("live-status")!;
      const record = (added: number, removed: number) => changes.push({ added, removed, lines: log.childElementCount, status: status.textContent ?? "" });
      // The page as its script left it before this (module scripts run before DOMContentLoaded).
      record(0, 0);
      const observer = new MutationObserver((records) => {
        const count = (key: "addedNodes" | "removedNodes") => records.reduce((sum, r) => sum + (r.target === log ? r[key].length : 0), 0);
        record(count("addedNodes"), count("removedNodes"));
      });
      observer.observe(log, { childList: true });
      observer.observe(status, { childList: true, characterData: true, subtree: true });
    });
  });
  return () => page.evaluate(() => (window as unknown as { logChanges: LogChange[] }).logChanges);
}

/** What a screen reader is given of an element's text: the text under it in Chromium's accessibility tree, CSS generated content included. */
async function spokenText(page: Page, selector: string): Promise<string> {
  const cdp = await page.context().newCDPSession(page);
  const { root } = await cdp.send("DOM.getDocument");
  const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector });
  const { node } = await cdp.send("DOM.describeNode", { nodeId });
  const { nodes } = await cdp.send("Accessibility.getFullAXTree");
  await cdp.detach();
  const byId = new Map(nodes.map((ax) => [ax.nodeId, ax]));
  const text = (ax: (typeof nodes)[number]): string =>
    ax.role?.value === "StaticText" ? (ax.ignored ? "" : String(ax.name?.value ?? "")) : (ax.childIds ?? []).map((id) => text(byId.get(id)!)).join("");
  return text(nodes.find((ax) => ax.backendDOMNodeId === node.backendNodeId)!);
}

it("says \"Live\" without the dot drawn before it", async () => {
  // Running well past the page's first "Live" (the test does not wait for its end).
  const job = await createJob(baseUrl, "echo", { lines: lines(3), delayMs: 5_000 });
  const { page, problems } = await openPage(browser());
  await page.goto(job.urls.page);
  await waitForText(page, "#live-status", "Live");
  // The dot is there to see...
  expect(await page.$eval("#live-status", (status) => getComputedStyle(status, "::before").content)).toMatch(/^"●"/);
  // ...not to hear.
  expect(await spokenText(page, "#live-status")).toBe("Live");
  expect(problems).toEqual([]);
  await page.context().close();
});

it("keeps the page still on a phone as the status goes from \"Connecting…\" to \"Live\"", { timeout: 60_000 }, async () => {
  // Waiting for a minute: the header ("sleepy job", its state) stays as it is meanwhile.
  const job = await createJob(baseUrl, "sleepy", { duration: "1 minute" });
  await expect.poll(() => jobState(baseUrl, job.id), { timeout: 20_000, interval: 200 }).toBe("waiting");
  const { page, problems } = await openPage(browser());
  await page.addInitScript(() => {
    const seen: string[] = ((window as unknown as { seen: typeof seen }).seen = []);
    addEventListener("DOMContentLoaded", () => {
      const status = document.getElementById("live-status")!;
      const record = () => seen.push(`${status.textContent}: ${document.querySelector(".meta")!.getBoundingClientRect().top}`);
      record();
      new MutationObserver(record).observe(status, { childList: true, characterData: true, subtree: true });
    });
  });
  // Phone widths: somewhere in them (where depends on the fonts), the header and
  // "Connecting…" took two lines where the header and "Live" took one.
  for (let width = 320; width <= 420; width += 10) {
    await page.setViewportSize({ width, height: 740 });
    await page.goto(job.urls.page);
    await waitForText(page, "#live-status", "Live");
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen.map((s) => s.split(":")[0])).toEqual(["Connecting…", "Live"]);
    expect(new Set(seen.map((s) => s.split(": ")[1])).size, `${width} px: ${seen.join(", ")}`).toBe(1);
  }
  expect(problems).toEqual([]);
  await page.context().close();
  await fetch(job.urls.self, { method: "DELETE", headers: { "Control-Token": job.controlToken! } });
});

it("draws the progress bar in forced colours (Windows High Contrast), where it was blank", async () => {
  const job = await createJob(baseUrl, "echo", { lines: lines(2), delayMs: 5_000 });
  const { page, problems } = await openPage(browser(), { forcedColors: "active" });
  await page.goto(job.urls.page);
  // Half done, for 5 s: asleep before the second line.
  await waitForText(page, "#progress-text", /^50 %/);
  const shot = (await page.locator("#progress-bar").screenshot()).toString("base64");
  // The bar's done half and its other half, each as its mean colour, read back in a blank page.
  const blank = await page.context().newPage();
  const [done, left] = await blank.evaluate(async (png) => {
    const image = new Image();
    image.src = `data:image/png;base64,${png}`;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext("2d")!;
    context.drawImage(image, 0, 0);
    const mean = (x: number) => {
      const { data } = context.getImageData(x, 0, Math.floor(image.width / 4), image.height);
      let sum = 0;
      for (let i = 0; i < data.length; i += 4) sum += data[i]! + data[i + 1]! + data[i + 2]!;
      return sum / (data.length / 4);
    };
    return [mean(Math.floor(image.width / 8)), mean(Math.floor((image.width * 5) / 8))];
  }, shot);
  expect(Math.abs(done - left)).toBeGreaterThan(100);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("cancels without JavaScript: the form post comes back to the page", async () => {
  const job = await createJob(baseUrl, "echo", { lines: lines(30), delayMs: 1_000 });
  const { page } = await openPage(browser(), { javaScriptEnabled: false });
  await holdControl(page, job);
  await page.goto(job.urls.page);
  // One click posts: the question needs JavaScript, and stays hidden without it.
  expect(await page.isVisible("#cancel-confirm")).toBe(false);
  const [post] = await Promise.all([page.waitForResponse((r) => r.url() === job.urls.cancel), page.click("#cancel-ask")]);
  expect(post.status()).toBe(303);
  await page.waitForURL(job.urls.page);
  await waitForText(page, "#job-state", "Canceled");
  expect(await page.textContent("#error-message")).toContain("The job was canceled");
  await page.context().close();
});

it("without JavaScript, says the page reloads itself while the job runs, and stops reloading when asked", { timeout: 60_000 }, async () => {
  const job = await createJob(baseUrl, "echo", { lines: lines(30), delayMs: 1_000 });
  const { page, problems } = await openPage(browser(), { javaScriptEnabled: false });
  let loads = 0;
  page.on("load", () => loads++);
  await page.goto(job.urls.page);
  await waitForText(page, "#reloading", "This page reloads itself every 3 s while the job runs. Stop reloading");
  await page.waitForTimeout(4_000);
  expect(loads).toBeGreaterThan(1);
  // The keyboard reaches the way out right after the site's links, well before the next reload.
  await page.waitForEvent("load");
  await page.keyboard.press("Tab");
  for (let i = 0; i < 4; i++) await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Stop reloading");
  await Promise.all([page.waitForURL(`${job.urls.page}?reload=off`), page.keyboard.press("Enter")]);
  await waitForText(page, "#reloading", /^This page no longer reloads itself: reload it to see how the job is doing, or reload it every 3 s\.$/);
  loads = 0;
  await page.waitForTimeout(4_000);
  expect(loads).toBe(0);
  // "reload it" keeps it off; the other link brings the reloads back.
  await Promise.all([page.waitForURL(`${job.urls.page}?reload=off`), page.click("#reloading a >> nth=0")]);
  await Promise.all([page.waitForURL(job.urls.page), page.click("#reloading a >> nth=1")]);
  await waitForText(page, "#reloading", /^This page reloads itself/);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("without JavaScript, opens the log at its newest lines on every reload, without scrolling the page", { timeout: 60_000 }, async () => {
  // 100 lines at once, then a pause that keeps the job running (and the page reloading).
  const job = await createJob(baseUrl, "ticker", { count: 100, intervalMs: 0, pauseMs: 60_000, then: [{ count: 1 }] });
  await expect.poll(async () => ((await (await fetch(job.urls.self)).json()) as JobSnapshot).lastSeq, { timeout: 30_000, interval: 200 }).toBeGreaterThan(100);
  const { page, problems } = await openPage(browser(), { javaScriptEnabled: false });
  // Which lines the log shows: those whose middle is inside the box that scrolls it.
  const shown = () => page.$$eval("#log .log-line", (items) => {
    const box = document.querySelector(".log-box")!.getBoundingClientRect();
    return items.filter((item) => {
      const { top, bottom } = item.getBoundingClientRect();
      return (top + bottom) / 2 > box.top && (top + bottom) / 2 < box.bottom;
    }).map((item) => Number(/^tick (\d+)\//.exec(item.querySelector(".log-message")!.textContent!)?.[1]));
  });
  await page.goto(job.urls.page);
  for (let load = 0; load < 2; load++) {
    if (load) await page.waitForEvent("load");
    const lines = await shown();
    expect(lines.at(-1)).toBe(100);
    expect(lines[0]).toBeGreaterThan(1);
    expect(await page.evaluate(() => scrollY)).toBe(0);
  }
  // Older lines are still a keypress away; the keyboard's place shows on the box, which would clip the list's own outline.
  await page.focus("#log");
  expect(await page.$eval(".log-box", (box) => getComputedStyle(box).outlineStyle)).toBe("solid");
  await page.keyboard.press("Home");
  await expect.poll(async () => (await shown())[0]).toBe(1);
  expect(problems).toEqual([]);
  await page.context().close();
  await fetch(job.urls.cancel, { method: "POST", headers: { Authorization: `Bearer ${E2E_TOKEN}` } });
});

it("resumes after a reload in the middle of a job without repeating log lines", async () => {
  const expected = lines(8);
  const job = await createJob(baseUrl, "echo", { lines: expected, delayMs: 400 });
  const { page, problems } = await openPage(browser());
  await page.goto(job.urls.page);
  await waitForLogLines(page, 3);
  await page.reload();
  await waitForText(page, "#job-state", "Succeeded");
  expect(await logMessages(page)).toEqual(expected);
  const seqs = await logSeqs(page);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("shows a step's failed attempts and its retries in the timeline", async () => {
  const job = await createJob(baseUrl, "flaky", { failures: 2, retries: 3, delayMs: 1_500 });
  const { page, problems } = await openPage(browser());
  await page.goto(job.urls.page);
  const detail = `li[data-step="1"] .step-detail`; // call-service, the second step
  await waitForText(page, detail, /^attempt [12] failed: Service unavailable \(attempt [12]\); retry in [\d.]+ (ms|s)$/);
  await waitForText(page, "#job-state", "Succeeded");
  // Once it succeeded, the step still says why it needed its retries.
  await waitForText(page, detail, /^done in [\d.]+ (ms|s) after 3 attempts; attempt 2 failed: Service unavailable \(attempt 2\)$/);
  expect(await page.textContent("#retries")).toBe("2");
  expect(await page.textContent("#steps-summary")).toBe("2 of 2 steps done · 2 retries");
  expect(problems).toEqual([]);
  await page.context().close();
});

it("follows new log lines at the bottom, and stays put when the reader scrolled up", async () => {
  const job = await createJob(baseUrl, "echo", { lines: lines(45), delayMs: 100 });
  const { page, problems } = await openPage(browser());
  await page.goto(job.urls.page);
  const position = () => page.$eval("#log", (log) => ({ top: log.scrollTop, gap: log.scrollHeight - log.scrollTop - log.clientHeight, overflows: log.scrollHeight > log.clientHeight }));
  await page.waitForFunction(() => {
    const log = document.querySelector("#log")!;
    return log.scrollHeight > log.clientHeight + 100;
  });
  expect((await position()).gap).toBeLessThanOrEqual(1);

  await page.$eval("#log", (log) => log.scrollTo({ top: 0 }));
  const seen = (await logMessages(page)).length;
  await waitForLogLines(page, seen + 3);
  expect((await position()).top).toBe(0);
  expect(await page.isVisible("#jump-to-end")).toBe(true);

  // From the keyboard: the button goes once pressed, and the keyboard stays in the log.
  await page.focus("#jump-to-end");
  await page.keyboard.press("Enter");
  expect((await position()).gap).toBeLessThanOrEqual(1);
  expect(await page.isVisible("#jump-to-end")).toBe(false);
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("log");
  await waitForText(page, "#job-state", "Succeeded");
  expect(await logMessages(page)).toEqual(lines(45));
  expect(problems).toEqual([]);
  await page.context().close();
});

it("copies the page's link and the curl command", async () => {
  const job = await createJob(baseUrl, "echo", { lines: ["hi"], delayMs: 0 });
  const { page, problems } = await openPage(browser());
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl });
  await page.goto(job.urls.page);
  await page.click("#copy-link");
  await waitForText(page, "#copy-link", "Copied");
  // Said by a status region too: a button's new name is not announced by every screen reader.
  await waitForText(page, "#copy-news", "Link copied to the clipboard");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(job.urls.page);
  await page.focus("#copy-curl");
  await page.keyboard.press("Enter");
  await waitForText(page, "#copy-curl", "Copied");
  await waitForText(page, "#copy-news", "Command copied to the clipboard");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`curl -N ${job.urls.stream}`);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("answers a browser with a 404 page for an unknown job or page, and an API client with JSON", async () => {
  const unknown = `${baseUrl}/jobs/${"x".repeat(32)}`;
  const { page, problems } = await openPage(browser());
  for (const url of [unknown, `${baseUrl}/no-such-page`]) {
    const response = await page.goto(url);
    expect(response?.status()).toBe(404);
    expect(response?.headers()["content-type"]).toContain("text/html");
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await waitForText(page, "h1", "Not found");
    expect(await page.textContent("main a[href='/']")).toBe("Start a new job");
  }
  expect(await page.textContent(".lead")).toContain("No such route");
  expect(problems).toEqual([]);
  await page.context().close();

  const response = await fetch(unknown);
  expect(response.status).toBe(404);
  expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
});

it("replays a 10,000-event history on the job page, every line once and in order, then follows it live", { timeout: 120_000 }, async () => {
  // 10,000 ticks at once, a pause in which the page opens and catches up, then 20 live ones.
  const job = await createJob(baseUrl, "ticker", { count: 10_000, intervalMs: 0, batch: 500, pauseMs: 10_000, then: [{ count: 20, intervalMs: 100 }] });
  await expect.poll(async () => (await (await fetch(job.urls.self)).json() as { lastSeq: number }).lastSeq, { timeout: 30_000, interval: 200 }).toBeGreaterThan(10_000);
  const { page, problems } = await openPage(browser());
  await page.goto(job.urls.page);
  // Live while the job still runs (an ended job's page never says so): the last 20 lines then come live.
  await waitForText(page, "#live-status", "Live", 10_000);
  await waitForText(page, "#job-state", "Succeeded", 60_000);
  const messages = await logMessages(page);
  expect(messages).toHaveLength(10_020);
  expect(messages.map((m) => Number(/^tick (\d+)\//.exec(m)?.[1]))).toEqual(Array.from({ length: 10_020 }, (_, i) => i + 1));
  const seqs = await logSeqs(page);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("keeps a long log's latest 20,000 lines, dropping the oldest a thousand at a time rather than a few on every batch", { timeout: 120_000 }, async () => {
  // Past the cap, removing lines from the top of the list costs a restyle and layout of the
  // whole list: done for every batch, it held a page following 50 lines a second 0.15-0.4 s a batch.
  const job = await createJob(baseUrl, "ticker", { count: 21_500, intervalMs: 0, batch: 500 });
  await expect.poll(() => jobState(baseUrl, job.id), { timeout: 60_000, interval: 200 }).toBe("succeeded");
  const { page, problems } = await openPage(browser());
  const changes = await watchLog(page);
  await page.goto(job.urls.page);
  await waitForText(page, "#log li:last-child .log-message", /^tick 21500\//, 60_000);
  const messages = await logMessages(page);
  expect(messages.length).toBeLessThanOrEqual(20_000);
  expect(messages.length).toBeGreaterThanOrEqual(19_000);
  const first = 21_500 - messages.length + 1;
  expect(messages.map((m) => Number(/^tick (\d+)\//.exec(m)?.[1]))).toEqual(Array.from({ length: messages.length }, (_, i) => first + i));
  const removals = (await changes()).map((change) => change.removed).filter(Boolean);
  expect(removals.length).toBeGreaterThan(0);
  expect(removals.length).toBeLessThanOrEqual(2);
  for (const removed of removals) expect(removed).toBeGreaterThanOrEqual(1_000);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("opens an ended job's long history at its end in one change to the log, not one per batch of the replay", { timeout: 120_000 }, async () => {
  // Each change to a long log lays out all of it: changed for every 50 ms batch of its
  // replay, a 99,000-event history took the page 22 s to say "ended" (a bare WebSocket reader: 2.3 s).
  const count = 45_000;
  const job = await createJob(baseUrl, "ticker", { count, intervalMs: 0, batch: 1_000 });
  await expect.poll(() => jobState(baseUrl, job.id), { timeout: 60_000, interval: 200 }).toBe("succeeded");
  const { page, problems } = await openPage(browser());
  const changes = await watchLog(page);
  await page.goto(job.urls.page);
  await page.waitForSelector('#live-status[data-status="ended"]', { state: "attached", timeout: 60_000 });
  // When it says "ended", the last lines are there, in order, and the log shows its end.
  const messages = await logMessages(page);
  expect(messages.length).toBeGreaterThanOrEqual(19_000);
  expect(messages.length).toBeLessThanOrEqual(20_000);
  const first = count - messages.length + 1;
  expect(messages.map((m) => Number(/^tick (\d+)\//.exec(m)?.[1]))).toEqual(Array.from({ length: messages.length }, (_, i) => first + i));
  expect(await page.$eval("#log", (log) => log.scrollHeight - log.scrollTop - log.clientHeight)).toBeLessThanOrEqual(1);
  expect(await page.isVisible("#jump-to-end")).toBe(false);
  // The whole replay reached the log in one change: the lines that stay, built once.
  const additions = (await changes()).map((change) => change.added).filter(Boolean);
  expect(additions).toEqual([20_000]);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("says it is catching up while a running job's long history is held back, and \"Live\" once its log has caught up", { timeout: 120_000 }, async () => {
  // 10,000 ticks, then a pause that keeps the job running while the page opens and catches up.
  const job = await createJob(baseUrl, "ticker", { count: 10_000, intervalMs: 0, batch: 500, pauseMs: 60_000, then: [{ count: 1 }] });
  await expect.poll(async () => ((await (await fetch(job.urls.self)).json()) as JobSnapshot).lastSeq, { timeout: 30_000, interval: 200 }).toBeGreaterThan(10_000);
  const { page, problems } = await openPage(browser());
  const changes = await watchLog(page);
  await page.goto(job.urls.page);
  await waitForText(page, "#live-status", "Live", 60_000);
  // Each status the page said, with the log lines shown when it said it.
  const said = (await changes()).filter((change, i, all) => change.status !== all[i - 1]?.status).map(({ status, lines }) => ({ status, lines }));
  const rendered = said[0]!.lines;
  expect(rendered).toBeGreaterThan(0);
  expect(said).toEqual([
    { status: "Connecting…", lines: rendered },
    // The server's first page of lines, and no more: the replay is held until it caught up.
    { status: "Catching up…", lines: rendered },
    { status: "Live", lines: 10_000 },
  ]);
  expect(await page.textContent("#job-state")).toBe("Running");
  expect(problems).toEqual([]);
  await page.context().close();
  await fetch(job.urls.cancel, { method: "POST", headers: { Authorization: `Bearer ${E2E_TOKEN}` } });
});

it("shows a finished job's whole log, past the first page the server rendered, webhook events after its end and all", { timeout: 60_000 }, async () => {
  // Its webhook's attempts come after the end the stream stops at (no receiver listens, or
  // webhooks.test.ts's answers 503 first): the snapshot counts events the replay never reaches.
  const job = await createJob(baseUrl, "ticker", { count: 2_500, intervalMs: 0, batch: 500 }, { webhook: { url: `http://127.0.0.1:${inject("webhookPort")}/hooks/page` } });
  await expect.poll(() => jobState(baseUrl, job.id), { timeout: 30_000, interval: 200 }).toBe("succeeded");
  await expect.poll(async () => ((await (await fetch(job.urls.self, { headers: { Authorization: `Bearer ${E2E_TOKEN}` } })).json()) as JobSnapshot).webhook?.attempts, { timeout: 30_000, interval: 200 }).toBeGreaterThan(0);
  const { page, problems } = await openPage(browser());
  await page.goto(job.urls.page);
  await page.waitForFunction(() => document.querySelectorAll("#log li").length >= 2_500, undefined, { timeout: 30_000 });
  await page.waitForSelector('#live-status[data-status="ended"]', { state: "attached" });
  const messages = await logMessages(page);
  expect(messages.map((m) => Number(/^tick (\d+)\//.exec(m)?.[1]))).toEqual(Array.from({ length: 2_500 }, (_, i) => i + 1));
  expect(await page.textContent("#viewers")).toBe("none (it has ended)");
  expect(problems).toEqual([]);
  await page.context().close();
});

it("says so when the job is deleted while the page is open: its badge, clock and Cancel stop, and nothing says what happens next", async () => {
  const job = await createJob(baseUrl, "echo", { lines: lines(30), delayMs: 2_000 });
  const { page, problems } = await openPage(browser());
  await holdControl(page, job);
  await page.goto(job.urls.page);
  await waitForText(page, "#live-status", "Live");
  // Asleep between two lines, with an ETA, watched by this page.
  await waitForText(page, "#progress-text", /^\d+ % · about [\d.]+ (ms|s) left$/);
  await waitForText(page, "#steps .step-sleeping .step-detail", /^sleeping, wakes in /);
  await waitForText(page, "#viewers", "1 watching");
  expect((await fetch(job.urls.self, { method: "DELETE", headers: { "Control-Token": job.controlToken! } })).status).toBe(204);
  await waitForText(page, "#live-status", "This job no longer exists.");
  await waitForText(page, "#job-state", "Gone");
  expect(await page.isVisible("#cancel-form")).toBe(false);
  expect(await page.textContent("#viewers")).toBe("none (it no longer exists)");
  expect(await page.textContent("#steps")).not.toMatch(/wakes in|running/);
  expect(await page.textContent("#progress-text")).toMatch(/^\d+ %$/);
  const elapsed = await page.textContent("#elapsed");
  await page.waitForTimeout(1_500);
  expect(await page.textContent("#elapsed")).toBe(elapsed);
  // The client's own reconnect attempts may log the 410 it got; nothing else.
  expect(problems.filter((p) => !p.includes("410"))).toEqual([]);
  await page.context().close();
});

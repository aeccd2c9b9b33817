// The dashboard in Chromium: sign in with a token, the list updates live as jobs progress
// and end, filters (whose URLs carry only the fields filled in), run again, Cancel (asked
// first in the row and sent in the page with JavaScript, at once without), and the plain
// paged list without JavaScript.
import type { Page } from "playwright-core";
import { expect, inject, it } from "vitest";
import type { CreatedJob } from "../../src/protocol";
import { jobState, openPage, screenshot, useChromium, waitForText } from "./browser";
import { sign } from "hono/jwt";
import { DASHBOARD_TOKEN as TOKEN, E2E_JWT_SECRET } from "./wrangler-dev";

const baseUrl = inject("baseUrl");

const browser = useChromium();

async function create(type: string, input: unknown, tags: string[] = []): Promise<CreatedJob> {
  const response = await fetch(`${baseUrl}/jobs`, {
    method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ type, input, tags }),
  });
  if (response.status !== 201) throw new Error(`POST /jobs answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as CreatedJob;
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${baseUrl}/dashboard`);
  await page.fill("#credential", TOKEN);
  await Promise.all([page.waitForURL(`${baseUrl}/dashboard`), page.click("#sign-in button")]);
}

const row = (id: string) => `tr[data-job="${id}"]`;

/** Waits until the owner's list (the index, told a moment after the job itself) has the jobs in `state`. */
async function listedIn(state: string, tag: string, ...jobs: CreatedJob[]): Promise<void> {
  const listed = async () => {
    const response = await fetch(`${baseUrl}/jobs?state=${state}&tag=${tag}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    const ids = ((await response.json()) as { jobs: { id: string }[] }).jobs.map((job) => job.id);
    return jobs.every((job) => ids.includes(job.id));
  };
  await expect.poll(listed).toBe(true);
}

/** A row's Cancel and its question's answers, found by their accessible names as a screen reader would. */
function cancelButtons(page: Page, job: CreatedJob) {
  const inRow = page.locator(row(job.id));
  return {
    cancel: inRow.getByRole("button", { name: `Cancel sleepy job ${job.id.slice(0, 6)}…`, exact: true }),
    yes: inRow.getByRole("button", { name: "Yes", exact: true }),
    no: inRow.getByRole("button", { name: "No", exact: true }),
  };
}

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

it("keeps the header still as its live status changes, at widths where the status once re-wrapped it", { timeout: 60_000 }, async () => {
  const { page, problems } = await openPage(browser(), { viewport: { width: 480, height: 800 } });
  // Where the list starts, as each status is shown (read in the same task, before anything else moves).
  await page.addInitScript(() => {
    const seen: { status: string; listTop: number }[] = ((window as unknown as { seen: typeof seen }).seen = []);
    addEventListener("DOMContentLoaded", () => {
      const status = document.getElementById("live-status");
      if (!status) return; // the sign-in page
      const record = () => seen.push({ status: status.textContent ?? "", listTop: document.querySelector(".counts")!.getBoundingClientRect().top });
      record();
      new MutationObserver(record).observe(status, { childList: true, characterData: true, subtree: true });
    });
  });
  await signIn(page);
  await waitForText(page, "#live-status", "Live");
  // (In Debian's Chromium, with its fonts, 460-510 px re-wrapped for "Connecting…" and "Reconnecting…" but not "Live".)
  for (const width of [470, 510]) {
    await page.setViewportSize({ width, height: 800 });
    await page.evaluate(() => ((window as unknown as { seen: unknown[] }).seen.length = 0));
    await page.context().setOffline(true);
    // Said once the client's backoff has waited, which grows with each drop.
    await waitForText(page, "#live-status", "Reconnecting…", 20_000);
    await page.context().setOffline(false);
    await waitForText(page, "#live-status", "Live", 20_000);
    const seen = await page.evaluate(() => (window as unknown as { seen: { status: string; listTop: number }[] }).seen);
    expect(seen.map((s) => s.status)).toContain("Reconnecting…");
    expect(new Set(seen.map((s) => s.listTop)).size, `${width} px: ${JSON.stringify(seen)}`).toBe(1);
  }
  // "Connecting…" as the page opened, then "Live", at the last width.
  await page.reload();
  await waitForText(page, "#live-status", "Live");
  const opened = await page.evaluate(() => (window as unknown as { seen: { status: string; listTop: number }[] }).seen);
  expect(opened.map((s) => s.status)).toEqual(["Connecting…", "Live"]);
  expect(opened[0]!.listTop).toBe(opened[1]!.listTop);
  expect(problems.filter((p) => !p.includes("ERR_INTERNET_DISCONNECTED"))).toEqual([]);
  await page.context().close();
});

it("keeps a row and its Run again where they are while its job starts, runs and ends, in the table and as a card", { timeout: 60_000 }, async () => {
  for (const width of [1100, 390]) {
    const tag = `still-${width}-${Date.now()}`;
    const { page, problems } = await openPage(browser(), { viewport: { width, height: 900 } });
    await signIn(page);
    await page.goto(`${baseUrl}/dashboard?tag=${tag}`);
    await waitForText(page, "#live-status", "Live");
    // The row's box and its Run again's, after every change to the list.
    await page.evaluate(() => {
      const places: string[] = ((window as unknown as { places: typeof places }).places = []);
      const tbody = document.getElementById("jobs")!;
      new MutationObserver(() => {
        const row = tbody.querySelector("tr");
        if (!row) return;
        const box = (element: Element) => JSON.stringify(element.getBoundingClientRect());
        places.push(`${box(row)} ${box(row.querySelector("form.rerun button")!)}`);
      }).observe(tbody, { childList: true, subtree: true, characterData: true, attributes: true });
    });
    // Running long enough for the row to show it running on a loaded machine.
    const job = await create("echo", { lines: ["one", "two"], delayMs: 3_000 }, [tag]);
    await waitForText(page, `${row(job.id)} .badge`, /^(Running|Waiting)$/);
    expect(await page.isVisible(`${row(job.id)} form.cancel`)).toBe(true);
    await waitForText(page, `${row(job.id)} .badge`, "Succeeded", 30_000);
    expect(await page.isVisible(`${row(job.id)} form.cancel`)).toBe(false);
    const places = await page.evaluate(() => (window as unknown as { places: string[] }).places);
    expect(places.length).toBeGreaterThan(3);
    expect(new Set(places).size, `${width} px: ${[...new Set(places)].join("\n")}`).toBe(1);
    expect(problems).toEqual([]);
    await page.context().close();
  }
});

it("asks in the row before it cancels: No, Escape or a double click change nothing; Yes cancels", { timeout: 60_000 }, async () => {
  const tag = `ask-${Date.now()}`;
  // One row the server renders, one that arrives live and the page builds.
  const early = await create("sleepy", { duration: "5 minutes" }, [tag]);
  const { page, problems } = await openPage(browser());
  const posts: string[] = [];
  page.on("request", (request) => request.method() === "POST" && request.url().endsWith("/cancel") && posts.push(request.url()));
  await signIn(page);
  await page.goto(`${baseUrl}/dashboard?tag=${tag}`);
  await waitForText(page, "#live-status", "Live");
  const late = await create("sleepy", { duration: "5 minutes" }, [tag]);
  await waitForText(page, `${row(late.id)} .badge`, /^(Queued|Running|Waiting)$/);
  const focused = () => page.evaluate(() => document.activeElement?.textContent);
  const asking = (job: CreatedJob) => page.isVisible(`${row(job.id)} .confirm`);

  for (const job of [early, late]) {
    // Each button says which job it is for; the question names it too.
    const named = cancelButtons(page, job);
    expect(await named.cancel.count()).toBe(1);
    expect(await page.getByRole("button", { name: `Run again sleepy job ${job.id.slice(0, 6)}…`, exact: true }).count()).toBe(1);

    // A double click asks, no more, with the safe choice focused.
    await named.cancel.dblclick();
    expect(await asking(job)).toBe(true);
    expect(await named.cancel.isVisible()).toBe(false);
    expect(await page.getByRole("group", { name: `Cancel sleepy job ${job.id.slice(0, 6)}…?`, exact: true }).isVisible()).toBe(true);
    expect(await focused()).toBe("No");
    await named.no.click();
    expect(await asking(job)).toBe(false);
    expect(await focused()).toBe(`Cancel sleepy job ${job.id.slice(0, 6)}…`);
    // From the keyboard: Enter asks, Escape backs out.
    await page.keyboard.press("Enter");
    expect(await asking(job)).toBe(true);
    await page.keyboard.press("Escape");
    expect(await asking(job)).toBe(false);
    expect(await focused()).toBe(`Cancel sleepy job ${job.id.slice(0, 6)}…`);
  }
  expect(posts).toEqual([]);

  // Yes cancels in the page (with the session's CSRF token): no reload, and the keyboard
  // goes on to the row's Run again, which takes Cancel's place.
  await page.evaluate(() => ((window as { stayed?: boolean }).stayed = true));
  const live = cancelButtons(page, late);
  await live.cancel.click();
  await live.yes.click();
  await waitForText(page, `${row(late.id)} .badge`, "Canceled");
  await page.waitForFunction((name) => document.activeElement?.textContent === name, `Run again sleepy job ${late.id.slice(0, 6)}…`);
  expect(posts).toEqual([`${baseUrl}/jobs/${late.id}/cancel`]);
  expect(await jobState(baseUrl, late.id)).toBe("canceled");
  expect(await jobState(baseUrl, early.id)).not.toBe("canceled");
  // This page was served with both rows: the early one's form is the server's. From the keyboard.
  await cancelButtons(page, early).cancel.focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Shift+Tab");
  expect(await focused()).toBe("Yes");
  await page.keyboard.press("Enter");
  await waitForText(page, `${row(early.id)} .badge`, "Canceled");
  await page.waitForFunction((name) => document.activeElement?.textContent === name, `Run again sleepy job ${early.id.slice(0, 6)}…`);
  expect(posts).toHaveLength(2);
  expect(await page.evaluate(() => (window as { stayed?: boolean }).stayed)).toBe(true);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("says the counts are of all the owner's jobs when a type or tag filter leaves fewer rows", async () => {
  const tag = `scope-${Date.now()}`;
  await create("demo", { intervalMs: 0 }, [tag]);
  const { page, problems } = await openPage(browser());
  await signIn(page);
  const counts = (name: string) => page.getByRole("navigation", { name, exact: true });
  for (const filters of [`tag=${tag}`, "type=demo", `state=succeeded&tag=${tag}`]) {
    await page.goto(`${baseUrl}/dashboard?${filters}`);
    expect(await counts("Jobs by state, counting all your jobs").count(), filters).toBe(1);
    expect(await page.isVisible("#counts-scope"), filters).toBe(true);
    expect(await page.textContent("#counts-scope")).toBe("Counts are of all your jobs");
  }
  // By state only (or none), the counts are of what the list draws from: nothing to say.
  for (const filters of ["", "?state=succeeded"]) {
    await page.goto(`${baseUrl}/dashboard${filters}`);
    expect(await counts("Jobs by state").count(), filters).toBe(1);
    expect(await page.locator("#counts-scope").count(), filters).toBe(0);
  }
  expect(problems).toEqual([]);
  await page.context().close();
});

it("says which state's count the list shows, and draws the keyboard's focus on it as on any other", async () => {
  const { page, problems } = await openPage(browser());
  await signIn(page);
  const current = () => page.$$eval('.counts [aria-current="page"]', (links) => links.map((link) => link.textContent!.replace(/\s+\d.*$/, "")));
  expect(await current()).toEqual(["All"]);
  // Reached with Tab, the current count shows the focus outline, which it has no other time.
  const outline = () => page.$eval('.counts [aria-current="page"]', (link) => getComputedStyle(link).outlineStyle + " " + getComputedStyle(link).outlineWidth);
  expect(await outline()).toMatch(/^none /);
  await page.focus(".sign-out button");
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-current"))).toBe("page");
  expect(await outline()).toBe("solid 3px");

  await page.click(".counts .state-running");
  await page.waitForURL(`${baseUrl}/dashboard?state=running`);
  expect(await current()).toEqual(["Running"]);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("names each row's link and progress bar after its job, in rows served and rows built live", async () => {
  const tag = `names-${Date.now()}`;
  const served = await create("sleepy", { duration: "5 minutes" }, [tag]);
  const { page, problems } = await openPage(browser());
  await signIn(page);
  await page.goto(`${baseUrl}/dashboard?tag=${tag}`);
  await waitForText(page, "#live-status", "Live");
  const live = await create("sleepy", { duration: "5 minutes" }, [tag]);
  await waitForText(page, `${row(live.id)} .badge`, /^(Queued|Running|Waiting)$/);
  for (const job of [served, live]) {
    const name = `sleepy job ${job.id.slice(0, 6)}…`;
    const inRow = page.locator(row(job.id));
    expect(await inRow.getByRole("link", { name, exact: true }).getAttribute("href")).toBe(`/jobs/${job.id}`);
    expect(await inRow.getByRole("progressbar", { name: `Progress of ${name}`, exact: true }).count()).toBe(1);
  }
  expect(problems).toEqual([]);
  await page.context().close();
});

it("says in the row why a cancel failed, and clears it on the next attempt", async () => {
  const tag = `fail-${Date.now()}`;
  const job = await create("sleepy", { duration: "5 minutes" }, [tag]);
  const { page, problems } = await openPage(browser());
  await signIn(page);
  await page.goto(`${baseUrl}/dashboard?tag=${tag}`);
  await waitForText(page, "#live-status", "Live");
  const url = `${baseUrl}/jobs/${job.id}/cancel`;
  const error = `${row(job.id)} .cancel-error`;
  const named = cancelButtons(page, job);
  const cancel = async () => {
    await named.cancel.click();
    await named.yes.click();
  };

  // No answer at all: the row says so, and the keyboard is back on its Cancel.
  await page.route(url, (route) => route.abort("failed"));
  await cancel();
  await waitForText(page, error, "Could not reach the server; try again");
  expect(await page.getAttribute(error, "role")).toBe("alert");
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(`Cancel sleepy job ${job.id.slice(0, 6)}…`);
  await page.unroute(url);
  // An answer that is not the API's (a proxy's error page) says its status.
  await page.route(url, (route) => route.fulfill({ status: 502, contentType: "text/html", body: "<h1>Bad gateway</h1>" }));
  await cancel();
  await waitForText(page, error, "Could not cancel: the server answered 502; try again");
  await page.unroute(url);
  // Refusals in a person's words: a session that ended (401), a page older than the session (403: its CSRF token).
  for (const [status, message] of [[401, "Not signed in any more: reload to sign in again"], [403, "This page is older than your session: reload it and try again"]] as const) {
    await page.route(url, (route) => route.fulfill({ status, json: { error: { code: "refused", message: "API words (header X-CSRF-Token)" } } }));
    await cancel();
    await waitForText(page, error, message);
    await page.unroute(url);
  }
  expect(await jobState(baseUrl, job.id)).not.toBe("canceled");
  await screenshot(page, "dashboard-cancel-failed");

  // The next attempt clears the message, and cancels.
  await cancel();
  await waitForText(page, `${row(job.id)} .badge`, "Canceled");
  expect(await page.textContent(error)).toBe("");
  expect(await jobState(baseUrl, job.id)).toBe("canceled");
  expect(problems).toEqual(["console error: Failed to load resource: net::ERR_FAILED", `502 ${url}`, `401 ${url}`, `403 ${url}`]);
  await page.context().close();
});

it("moves the keyboard to Run again when a job ends while its Cancel asks", async () => {
  const { page, problems } = await openPage(browser());
  await signIn(page);
  await waitForText(page, "#live-status", "Live");
  // Asleep long enough for the question to be asked before it wakes, on a loaded machine.
  const napper = await create("sleepy", { duration: "8 seconds" });
  await waitForText(page, `${row(napper.id)} .badge`, "Waiting");
  await cancelButtons(page, napper).cancel.click();
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("No");
  await waitForText(page, `${row(napper.id)} .badge`, "Succeeded");
  expect(await page.isVisible(`${row(napper.id)} form.cancel`)).toBe(false);
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(`Run again sleepy job ${napper.id.slice(0, 6)}…`);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("moves the keyboard to the next row when a canceled job leaves a list filtered by state", async () => {
  const tag = `leave-${Date.now()}`;
  const [older, newer] = [await create("sleepy", { duration: "5 minutes" }, [tag]), await create("sleepy", { duration: "5 minutes" }, [tag])];
  const { page, problems } = await openPage(browser());
  await signIn(page);
  await listedIn("waiting", tag, older, newer);
  await page.goto(`${baseUrl}/dashboard?state=waiting&tag=${tag}`);
  await waitForText(page, "#live-status", "Live");
  const buttons = cancelButtons(page, newer);
  await buttons.cancel.click();
  await buttons.yes.click();
  await page.waitForSelector(row(newer.id), { state: "detached" });
  // The feed may take the row away before the cancel answers: the focus moves once it has.
  await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label")), { timeout: 5_000 }).toBe(`sleepy job ${older.id.slice(0, 6)}…`);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("says the list is empty when a cancel takes its last row, without waiting for the feed", async () => {
  const tag = `last-${Date.now()}`;
  const job = await create("sleepy", { duration: "5 minutes" }, [tag]);
  await listedIn("waiting", tag, job);
  const { page } = await openPage(browser());
  await signIn(page);
  // No feed: the cancel's own answer is all the page hears of the change.
  await page.route("**/feed/**", (route) => route.abort());
  await page.goto(`${baseUrl}/dashboard?state=waiting&tag=${tag}`);
  expect(await page.isVisible("#no-jobs")).toBe(false);
  const buttons = cancelButtons(page, job);
  await buttons.cancel.click();
  await buttons.yes.click();
  await page.waitForSelector(row(job.id), { state: "detached" });
  await waitForText(page, "#no-jobs", "No jobs match these filters.");
  expect(await page.isVisible("#no-jobs")).toBe(true);
  await page.context().close();
});

it("cancels from the list without JavaScript: one click posts", async () => {
  const tag = `nojs-cancel-${Date.now()}`;
  const job = await create("sleepy", { duration: "5 minutes" }, [tag]);
  const { page } = await openPage(browser(), { javaScriptEnabled: false });
  await signIn(page);
  await page.goto(`${baseUrl}/dashboard?tag=${tag}`);
  // The question needs JavaScript, and stays hidden without it.
  expect(await page.isVisible(`${row(job.id)} .confirm`)).toBe(false);
  const [post] = await Promise.all([page.waitForResponse((r) => r.url().endsWith(`/jobs/${job.id}/cancel`)), cancelButtons(page, job).cancel.click()]);
  expect(post.status()).toBe(303);
  await page.waitForURL(`${baseUrl}/dashboard?tag=${tag}`);
  await waitForText(page, `${row(job.id)} .badge`, "Canceled");
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

it("keeps Older jobs right as new jobs push rows off the first page: none skipped, the link appears", { timeout: 60_000 }, async () => {
  const ids = (page: Page) => page.locator("#jobs tr").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.job));
  const { page, problems } = await openPage(browser());
  await signIn(page);

  // A page that had an Older link: its rows that leave must be on the next page.
  const tag = `pager-${Date.now()}`;
  const old = [];
  for (let i = 0; i < 3; i++) old.push(await create("demo", { intervalMs: 0 }, [tag]));
  await page.goto(`${baseUrl}/dashboard?tag=${tag}&limit=2`);
  await waitForText(page, "#live-status", "Live");
  expect(await ids(page)).toEqual([old[2]!.id, old[1]!.id]);
  const fresh = [];
  for (let i = 0; i < 2; i++) fresh.push(await create("demo", { intervalMs: 0 }, [tag]));
  await page.waitForFunction((id) => document.querySelector("#jobs tr")?.getAttribute("data-job") === id, fresh[1]!.id);
  expect(await ids(page)).toEqual([fresh[1]!.id, fresh[0]!.id]);
  await Promise.all([page.waitForURL(/cursor=/), page.click("#older")]);
  expect(new URL(page.url()).searchParams.get("tag")).toBe(tag);
  expect(await ids(page)).toEqual([old[2]!.id, old[1]!.id]);

  // A page that had none gets one once a row leaves.
  const lone = `pager-lone-${Date.now()}`;
  const first = await create("demo", { intervalMs: 0 }, [lone]);
  await page.goto(`${baseUrl}/dashboard?tag=${lone}&limit=2`);
  await waitForText(page, "#live-status", "Live");
  expect(await page.locator("#older").count()).toBe(0);
  const second = await create("demo", { intervalMs: 0 }, [lone]);
  const third = await create("demo", { intervalMs: 0 }, [lone]);
  await page.waitForFunction((id) => document.querySelector("#jobs tr")?.getAttribute("data-job") === id, third.id);
  expect(await ids(page)).toEqual([third.id, second.id]);
  await Promise.all([page.waitForURL(/cursor=/), page.click("#older")]);
  expect(await ids(page)).toEqual([first.id]);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("keeps a job that comes to match on the page it is listed on, however few rows the first page has left", { timeout: 60_000 }, async () => {
  const ids = (page: Page) => page.locator("#jobs tr").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.job));
  const api = (method: string, path: string) => fetch(`${baseUrl}${path}`, { method, headers: { Authorization: `Bearer ${TOKEN}` } });
  const tag = `boundary-${Date.now()}`;
  // Oldest first; all but the oldest canceled now.
  const jobs: CreatedJob[] = [];
  for (let i = 0; i < 4; i++) jobs.push(await create("sleepy", { duration: "5 minutes" }, [tag]));
  for (const job of jobs.slice(1)) expect((await api("POST", `/jobs/${job.id}/cancel`)).status).toBe(200);
  await listedIn("canceled", tag, ...jobs.slice(1));
  const { page, problems } = await openPage(browser());
  await signIn(page);
  await page.goto(`${baseUrl}/dashboard?state=canceled&tag=${tag}&limit=2`);
  await waitForText(page, "#live-status", "Live");
  expect(await ids(page)).toEqual([jobs[3]!.id, jobs[2]!.id]);
  // A row leaves, then the oldest job comes to match: it is on the next page (after
  // jobs[1]), not here, though this page now has room.
  expect((await api("DELETE", `/jobs/${jobs[3]!.id}`)).status).toBe(204);
  await page.waitForSelector(row(jobs[3]!.id), { state: "detached" });
  expect((await api("POST", `/jobs/${jobs[0]!.id}/cancel`)).status).toBe(200);
  await listedIn("canceled", tag, jobs[0]!);
  // The feed tells changes in order: once this later one shows, the cancel above was heard.
  expect((await api("DELETE", `/jobs/${jobs[2]!.id}`)).status).toBe(204);
  await page.waitForSelector(row(jobs[2]!.id), { state: "detached" });
  expect(await ids(page)).toEqual([]);
  await Promise.all([page.waitForURL(/cursor=/), page.click("#older")]);
  expect(await ids(page)).toEqual([jobs[1]!.id, jobs[0]!.id]);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("says the first page has no jobs left, not that there are none, when its rows go while older jobs remain", { timeout: 60_000 }, async () => {
  const api = (method: string, path: string) => fetch(`${baseUrl}${path}`, { method, headers: { Authorization: `Bearer ${TOKEN}` } });
  const tag = `emptied-${Date.now()}`;
  const jobs: CreatedJob[] = [];
  for (let i = 0; i < 3; i++) jobs.push(await create("demo", { intervalMs: 0 }, [tag]));
  const { page, problems } = await openPage(browser());
  await signIn(page);
  await page.goto(`${baseUrl}/dashboard?tag=${tag}&limit=2`);
  await waitForText(page, "#live-status", "Live");
  const shown = await page.locator("#jobs tr").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.job!));
  expect(shown).toHaveLength(2);
  for (const id of shown) expect((await api("DELETE", `/jobs/${id}`)).status).toBe(204);
  await page.waitForFunction(() => document.querySelectorAll("#jobs tr").length === 0);
  await waitForText(page, "#none-here", "No jobs left on this page.");
  expect(await page.isVisible("#none-here")).toBe(true);
  expect(await page.isVisible("#no-jobs")).toBe(false); // it said "No jobs match these filters."
  await Promise.all([page.waitForURL(/cursor=/), page.click("#older")]);
  expect(await page.locator("#jobs tr").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.job))).toEqual(jobs.map((j) => j.id).filter((id) => !shown.includes(id)));
  expect(problems).toEqual([]);
  await page.context().close();
});

it("says it is signed out when the session ends while the page is open: the feed ends with it", { timeout: 60_000 }, async () => {
  // A session started with a JWT lasts until the JWT's exp: here 9 to 10 s, time enough to
  // sign in and go live on a loaded machine (with 3 to 4 s, the session sometimes ended first).
  const jwt = await sign({ sub: "e2e-dashboard", exp: Math.floor(Date.now() / 1000) + 10 }, E2E_JWT_SECRET, "HS256");
  const { page, problems } = await openPage(browser());
  await page.goto(`${baseUrl}/dashboard`);
  await page.fill("#credential", jwt);
  await Promise.all([page.waitForURL(`${baseUrl}/dashboard`), page.click("#sign-in button")]);
  await waitForText(page, "#live-status", "Live");
  await waitForText(page, "#live-status", "Signed out: reload to sign in again", 25_000);
  // The header no longer says "Signed in as e2e-dashboard".
  expect(await page.locator("text=Signed in as").count()).toBe(0);
  await page.click("a:text('Sign in again')");
  await page.waitForSelector("#credential");
  expect(await page.isVisible("#credential")).toBe(true);
  // The browser logs the feed's refused reconnect (401) as a failed resource load.
  expect(problems.filter((problem) => !/401/.test(problem))).toEqual([]);
  await page.context().close();
});

it("signs in again from the form after a refused credential, wrong or malformed", async () => {
  const { page } = await openPage(browser());
  for (const [credential, message] of [["wrong-token-of-enough-length", "This token is not one of this deployment's owner tokens"], ["two words", "Paste an owner token or a JWT"]] as const) {
    await page.goto(`${baseUrl}/dashboard`);
    expect(await page.getAttribute("#credential", "aria-invalid")).toBeNull();
    await page.fill("#credential", credential);
    const [answer] = await Promise.all([page.waitForResponse(`${baseUrl}/session`), page.click("#sign-in button")]);
    expect(answer.status()).toBeLessThan(500);
    await waitForText(page, "#form-errors p", message);
    expect(await page.isVisible("#credential")).toBe(true);
    // As the start page's errors: the summary has the focus, and the field says it was refused, and why.
    await page.waitForFunction(() => document.activeElement?.id === "form-errors");
    expect(await page.getAttribute("#credential", "aria-invalid")).toBe("true");
    const described = await page.$eval("#credential", (input) => input.getAttribute("aria-describedby")!.split(" ").map((id) => document.getElementById(id)?.textContent));
    expect(described).toContain(message);
  }
  // The form that came back signs in.
  await page.fill("#credential", TOKEN);
  await Promise.all([page.waitForURL(`${baseUrl}/dashboard`), page.click("#sign-in button")]);
  await waitForText(page, "#live-status", "Live");
  await page.context().close();
});

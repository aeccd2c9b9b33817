// Starting a job from the start page in Chromium and watching it live to its result, in
// light and dark; job output that looks like HTML stays text.
import type { Page } from "playwright-core";
import { expect, inject, it } from "vitest";
import { logMessages, openPage, screenshot, useChromium, waitForLogLines, waitForText } from "./browser";

const baseUrl = inject("baseUrl");
const LINES = ["Starting up", "<script>window.pwned = true</script><b>bold?</b>", "Working", "Almost there", "Done"];

const browser = useChromium();

type Tracked = { sockets: WebSocket[] };

/** Keeps every WebSocket the page opens, to check later that it closed. */
async function trackSockets(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const sources: WebSocket[] = [];
    (window as unknown as Tracked).sockets = sources;
    window.WebSocket = class extends window.WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        sources.push(this);
      }
    };
  });
}

/** The accessible description a screen reader is given for the element of this role and name. */
async function description(page: Page, role: string, name: string): Promise<string | undefined> {
  const cdp = await page.context().newCDPSession(page);
  const { nodes } = (await cdp.send("Accessibility.getFullAXTree")) as { nodes: { role?: { value: string }; name?: { value: string }; description?: { value: string } }[] };
  await cdp.detach();
  const node = nodes.find((n) => n.role?.value === role && n.name?.value === name);
  if (!node) throw new Error(`No ${role} named ${name}`);
  return node.description?.value;
}

async function startEchoFromForm(page: Page): Promise<string> {
  await page.goto(`${baseUrl}/`);
  await page.selectOption("#type", "echo");
  // The fields come from the type's JSON Schema and write the JSON box.
  await page.fill("#field-lines", LINES.join("\n"));
  await page.fill("#field-delayMs", "600");
  expect(JSON.parse(await page.inputValue("#input"))).toEqual({ lines: LINES, delayMs: 600 });
  const [post] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${baseUrl}/jobs` && r.request().method() === "POST"),
    page.click("#start"),
  ]);
  expect(post.status()).toBe(303);
  await page.waitForURL(/\/jobs\/[A-Za-z0-9_-]{32}$/);
  return page.url().split("/").at(-1)!;
}

for (const colorScheme of ["light", "dark"] as const) {
  it(`starts a job from the form and follows it live to its result (${colorScheme})`, async () => {
    const { page, problems } = await openPage(browser(), { colorScheme });
    await trackSockets(page);
    const id = await startEchoFromForm(page);

    await waitForText(page, "#live-status", "Live");
    await waitForLogLines(page, 2);
    await waitForText(page, "#job-state", /^(Running|Waiting)$/);
    await waitForText(page, "#progress-text", /^\d+ % · about [\d.]+ (ms|s) left$/);
    expect(await page.textContent("#elapsed")).toMatch(/^\d+(\.\d)? (ms|s)$/);
    // The log is no live region (a fast job's would flood a screen reader): #job-news speaks for it.
    expect(await page.getAttribute("#log", "aria-live")).toBe("off");
    expect(await page.getAttribute("#job-news", "role")).toBe("status");
    await screenshot(page, `job-running-${colorScheme}`);

    await waitForText(page, "#job-state", "Succeeded");
    await waitForText(page, "#progress-text", "100 %");
    expect(await page.locator("#progress-bar").evaluate((bar) => (bar as HTMLProgressElement).value)).toBe(100);
    expect(JSON.parse((await page.textContent("#result"))!)).toEqual({ lines: LINES });
    expect(await page.isVisible("#cancel-form")).toBe(false);
    expect(await page.textContent("#steps")).toContain("line-5");
    expect(await page.textContent("#curl-command")).toBe(`curl -N ${baseUrl}/jobs/${id}/stream`);
    await screenshot(page, `job-finished-${colorScheme}`);

    // Output is text: the <script> line shows literally and never runs.
    expect(await logMessages(page)).toEqual(LINES);
    expect(await page.locator("#log script, #log b, #result script").count()).toBe(0);
    expect(await page.evaluate(() => (window as { pwned?: boolean }).pwned)).toBeUndefined();
    expect(problems).toEqual([]);

    // One WebSocket, closed after the result (else the client would reconnect forever).
    await page.waitForFunction(() => (window as unknown as Tracked).sockets.every((s) => s.readyState === 3));
    expect(await page.evaluate(() => (window as unknown as Tracked).sockets.map((s) => [new URL(s.url).pathname, s.readyState]))).toEqual([[`/jobs/${id}/ws`, 3 /* CLOSED */]]);

    // The start page lists the job started from this browser, with its state.
    await page.goto(`${baseUrl}/`);
    await waitForText(page, `#my-jobs-list li:has(a[href="/jobs/${id}"]) .badge`, "Succeeded");
    if (colorScheme === "light") {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${baseUrl}/jobs/${id}`);
      await screenshot(page, "job-finished-phone");
    }
    await page.context().close();
  });
}

for (const colorScheme of ["light", "dark"] as const) {
  it(`draws the form's fields with borders of 3:1 or more against their fill and what is around them (${colorScheme})`, async () => {
    const { page, problems } = await openPage(browser(), { colorScheme });
    await page.goto(`${baseUrl}/`);
    await page.selectOption("#type", "echo");
    // WCAG 1.4.11: a control's boundary must stand out from the colours on either side of it.
    const contrasts = await page.$$eval("#start-form :is(input, select, textarea):not([type=hidden], [type=checkbox])", (controls) => {
      const rgb = (color: string) => color.match(/[\d.]+/g)!.map(Number);
      const luminance = (color: string) => {
        const [r, g, b] = rgb(color).slice(0, 3).map((c) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4));
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      const ratio = (a: string, b: string) => {
        const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
        return (high! + 0.05) / (low! + 0.05);
      };
      // The first opaque background at or above an element.
      const fill = (element: Element | null): string => {
        for (; element; element = element.parentElement) {
          const color = getComputedStyle(element).backgroundColor;
          if (rgb(color)[3] !== 0) return color;
        }
        return "rgb(255, 255, 255)";
      };
      return controls.map((control) => {
        const border = getComputedStyle(control).borderTopColor;
        return { id: control.id, inside: Math.round(ratio(border, fill(control)) * 100) / 100, around: Math.round(ratio(border, fill(control.parentElement)) * 100) / 100 };
      });
    });
    expect(contrasts.map((c) => c.id)).toEqual(expect.arrayContaining(["type", "input", "timeoutMs", "field-delayMs"]));
    for (const contrast of contrasts) expect(Math.min(contrast.inside, contrast.around), JSON.stringify(contrast)).toBeGreaterThanOrEqual(3);
    expect(problems).toEqual([]);
    await page.context().close();
  });
}

it("checks the input as it is typed and refuses to post a broken one", async () => {
  const { page, problems } = await openPage(browser());
  await page.goto(`${baseUrl}/`);
  await page.selectOption("#type", "primes");
  await page.fill("#field-n", "1");
  await waitForText(page, "#field-n-error", "At least 2");
  await page.fill("#input", '{"n": ');
  await waitForText(page, "#input-error", /^Not valid JSON/);
  expect(await page.getAttribute("#input", "aria-invalid")).not.toBeNull();
  await page.click("#start");
  // Nothing was posted: still the start page, with the box focused.
  expect(new URL(page.url()).pathname).toBe("/");
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("input");
  expect(problems).toEqual([]);
  await page.context().close();
});

it("never lets a field overwrite what was typed in the JSON box", async () => {
  const { page, problems } = await openPage(browser());
  await page.goto(`${baseUrl}/`);
  await page.selectOption("#type", "echo");
  expect(await description(page, "group", "Input fields")).toBeFalsy();
  // Half-typed JSON: the fields are off, saying why, until the box is a JSON object again.
  const typed = '{"lines": ["kept"], "delayMs": ';
  await page.fill("#input", typed);
  expect(await page.isDisabled("#field-delayMs")).toBe(true);
  expect(await page.isVisible("#fields-off")).toBe(true);
  expect(await description(page, "group", "Input fields")).toMatch(/^These fields are off while the JSON box below is not a JSON object/);
  expect(await page.inputValue("#input")).toBe(typed);
  // A value no field can show stays in the box when another field is edited.
  await page.fill("#input", '{"lines": ["kept"], "delayMs": "soon"}');
  expect(await page.isDisabled("#field-lines")).toBe(false);
  expect(await page.isVisible("#fields-off")).toBe(false);
  // On again, they are no longer described as off (a hidden description would still be read).
  expect(await description(page, "group", "Input fields")).toBeFalsy();
  await page.fill("#field-lines", "one\ntwo");
  expect(JSON.parse(await page.inputValue("#input"))).toEqual({ lines: ["one", "two"], delayMs: "soon" });
  expect(problems).toEqual([]);
  await page.context().close();
});

it("flags fields the chosen type does not take before posting", async () => {
  const { page, problems } = await openPage(browser());
  await page.goto(`${baseUrl}/`);
  await page.selectOption("#type", "echo");
  await page.fill("#field-lines", "hello");
  // The box keeps what was edited on a type switch; demo takes neither of echo's fields.
  await page.selectOption("#type", "demo");
  await waitForText(page, "#input-error", "Not fields of demo: lines, delayMs. Its fields: intervalMs.");
  const posts: string[] = [];
  page.on("request", (request) => void (request.method() === "POST" && posts.push(request.url())));
  await page.click("#start");
  expect(posts).toEqual([]);
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("input");
  expect(await page.getAttribute("#input", "aria-invalid")).not.toBeNull();
  // Gone from the box, gone from the message.
  await page.fill("#input", '{"intervalMs": 10}');
  expect(await page.isVisible("#input-error")).toBe(false);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("checks the timeout before posting", async () => {
  const { page, problems } = await openPage(browser());
  await page.goto(`${baseUrl}/`);
  await page.fill("#timeoutMs", "-3");
  await waitForText(page, "#timeoutMs-error", "At least 1");
  expect(await page.getAttribute("#timeoutMs", "aria-invalid")).not.toBeNull();
  const posts: string[] = [];
  page.on("request", (request) => void (request.method() === "POST" && posts.push(request.url())));
  await page.click("#start");
  expect(posts).toEqual([]);
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("timeoutMs");
  await page.fill("#timeoutMs", "2.5");
  await waitForText(page, "#timeoutMs-error", "Expected a whole number");
  // A visitor's budget (wrangler.toml: PUBLIC_JOB_BUDGET runTime=10 minutes) bounds it too.
  await waitForText(page, "#timeout-hint", "The job fails with a timeout after this long: empty for the default, 10 minutes; at most 600,000 (10 minutes).");
  // A type whose input says what run time it needs gets a default that covers it.
  const first = await page.inputValue("#type");
  await page.selectOption("#type", "sleepy");
  await waitForText(page, "#timeout-hint", "The job fails with a timeout after this long: empty for the default, 10 minutes or what the input needs, if longer; at most 600,000 (10 minutes).");
  await page.selectOption("#type", first);
  await page.fill("#timeoutMs", "1e20");
  await waitForText(page, "#timeoutMs-error", "At most 600000");
  await page.fill("#timeoutMs", "600000");
  expect(await page.isVisible("#timeoutMs-error")).toBe(false);
  await page.fill("#timeoutMs", "");
  expect(await page.isVisible("#timeoutMs-error")).toBe(false);
  expect(await page.getAttribute("#timeoutMs", "aria-invalid")).toBeNull();
  expect(problems).toEqual([]);

  // Posted past every check (form.submit() skips them): the refusal is said for a person, on the field.
  await page.fill("#timeoutMs", "-3");
  await Promise.all([page.waitForResponse((r) => r.url() === `${baseUrl}/jobs`), page.$eval("#start-form", (form) => (form as HTMLFormElement).submit())]);
  await waitForText(page, "#form-errors p", "Some of the values are not right:");
  await waitForText(page, "#timeoutMs-error", "Expected a positive number of milliseconds");
  expect(await page.getAttribute("#timeoutMs", "aria-invalid")).toBe("true");
  expect(await page.inputValue("#timeoutMs")).toBe("-3");
  await page.context().close();
});

it("checks the length of each line of a list before posting", async () => {
  const { page, problems } = await openPage(browser());
  await page.goto(`${baseUrl}/?type=echo`);
  const posts: string[] = [];
  page.on("request", (request) => void (request.method() === "POST" && posts.push(request.url())));
  // echo's lines are at most 1,000 characters each.
  await page.fill("#field-lines", `short\n${"x".repeat(1_001)}`);
  await waitForText(page, "#field-lines-error", "At most 1000 characters a line");
  expect(await page.getAttribute("#field-lines", "aria-invalid")).not.toBeNull();
  await page.click("#start");
  expect(posts).toEqual([]);
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("field-lines");
  await page.fill("#field-lines", `short\n${"x".repeat(1_000)}`);
  expect(await page.isVisible("#field-lines-error")).toBe(false);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("checks a duration as the server reads it before posting, saying why on the field", async () => {
  const { page, problems } = await openPage(browser());
  await page.goto(`${baseUrl}/?type=sleepy`);
  await waitForText(page, "#field-duration-hint", 'A duration: milliseconds, or a number and a unit such as "30 seconds"; at most 30 days; default "30 seconds"');
  const posts: string[] = [];
  page.on("request", (request) => void (request.method() === "POST" && posts.push(request.url())));
  // A unit the server's parser does not know.
  await page.fill("#field-duration", "30 secs");
  const expected = 'Expected a duration: milliseconds, or a number and a unit such as "30 seconds"';
  await waitForText(page, "#field-duration-error", expected);
  expect(await page.getAttribute("#field-duration", "aria-invalid")).not.toBeNull();
  expect(await description(page, "textbox", "duration")).toContain(expected);
  await page.click("#start");
  expect(posts).toEqual([]);
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("field-duration");
  // Typed in the JSON box, the same check; past the schema's 30 days too.
  await page.fill("#input", '{"duration": -5}');
  await waitForText(page, "#field-duration-error", expected);
  await page.fill("#input", '{"duration": "31 days"}');
  await waitForText(page, "#field-duration-error", "At most 30 days");
  await page.fill("#field-duration", "1.5 s");
  expect(await page.isVisible("#field-duration-error")).toBe(false);
  expect(await page.getAttribute("#field-duration", "aria-invalid")).toBeNull();
  await Promise.all([page.waitForURL(/\/jobs\/[A-Za-z0-9_-]{32}$/), page.click("#start")]);
  expect(posts).toEqual([`${baseUrl}/jobs`]);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("says by primes' n what an anonymous visitor's budget allows", async () => {
  const { page, problems } = await openPage(browser());
  await page.goto(`${baseUrl}/?type=primes`);
  // wrangler.toml: PUBLIC_JOB_BUDGET steps=200; primes needs one step per segment of 1,000,000 by default.
  await waitForText(page, "#field-n-hint", /your budget: 200 steps, one per segment, so n up to 200 × segment \(200,000,000 with the default segment\)$/);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("keeps the input that was typed when the type changes, and swaps an untouched example for the new type's", async () => {
  const { page, problems } = await openPage(browser());
  await page.goto(`${baseUrl}/`);
  const example = (type: string) => page.$eval(`#type option[value="${type}"]`, (option) => (option as HTMLOptionElement).dataset.example!);
  // Untouched: each type brings its example.
  await page.selectOption("#type", "echo");
  expect(await page.inputValue("#input")).toBe(await example("echo"));
  await page.selectOption("#type", "primes");
  expect(await page.inputValue("#input")).toBe(await example("primes"));
  // Typed into the box: it stays, whatever the type.
  await page.fill("#input", '{"n": 1000}');
  await page.selectOption("#type", "echo");
  expect(await page.inputValue("#input")).toBe('{"n": 1000}');
  await page.selectOption("#type", "demo");
  expect(await page.inputValue("#input")).toBe('{"n": 1000}');
  // Emptied: the next type's example.
  await page.fill("#input", "");
  await page.selectOption("#type", "echo");
  expect(await page.inputValue("#input")).toBe(await example("echo"));
  // Edited through a field: it stays.
  await page.fill("#field-delayMs", "5");
  const edited = await page.inputValue("#input");
  expect(JSON.parse(edited)).toMatchObject({ delayMs: 5 });
  await page.selectOption("#type", "primes");
  expect(await page.inputValue("#input")).toBe(edited);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("works without JavaScript: a refused form comes back as a page, a good one runs to its result", async () => {
  const { page } = await openPage(browser(), { javaScriptEnabled: false });
  await page.goto(`${baseUrl}/`);
  await page.selectOption("#type", "primes");
  await page.fill("#input", '{"n": "many"}');
  const [refused] = await Promise.all([page.waitForResponse((r) => r.url() === `${baseUrl}/jobs`), page.click("#start")]);
  expect(refused.status()).toBe(400);
  expect(refused.headers()["content-type"]).toContain("text/html");
  await waitForText(page, "#form-errors h2", "The job was not started");
  expect(await page.textContent("#form-errors")).toMatch(/n.*number/s);
  expect(await page.inputValue("#input")).toBe('{"n": "many"}');
  expect(await page.inputValue("#type")).toBe("primes");
  // JSON that does not parse: the box itself is marked invalid (which also draws its border red).
  await page.fill("#input", '{"n": ');
  await Promise.all([page.waitForResponse((r) => r.url() === `${baseUrl}/jobs`), page.click("#start")]);
  await waitForText(page, "#input-error", /^.+$/);
  expect(await page.getAttribute("#input", "aria-invalid")).toBe("true");

  await page.selectOption("#type", "echo");
  await page.fill("#input", JSON.stringify({ lines: ["one", "<i>two</i>"], delayMs: 300 }));
  const [created] = await Promise.all([page.waitForResponse((r) => r.url() === `${baseUrl}/jobs`), page.click("#start")]);
  expect(created.status()).toBe(303);
  // Without a script the page reloads itself until the job ends.
  await waitForText(page, "#job-state", "Succeeded", 30_000);
  expect(await logMessages(page)).toEqual(["one", "<i>two</i>"]);
  expect(JSON.parse((await page.textContent("#result"))!)).toEqual({ lines: ["one", "<i>two</i>"] });
  await page.context().close();
});

it("without JavaScript, a type from the list brings its example, so the form posts", async () => {
  const { page } = await openPage(browser(), { javaScriptEnabled: false });
  await page.goto(`${baseUrl}/`);
  // The select alone cannot change the example without a script; the note says so.
  expect(await page.isVisible("#type-description + noscript p")).toBe(true);
  await page.click("#types a[data-type=echo]");
  expect(new URL(page.url()).search).toBe("?type=echo");
  expect(await page.inputValue("#type")).toBe("echo");
  expect(JSON.parse(await page.inputValue("#input"))).toEqual({ lines: ["Hello", "from a Durable Object"], delayMs: 500 });
  expect(await page.textContent("#type-description")).toContain("Logs each of");
  const [created] = await Promise.all([page.waitForResponse((r) => r.url() === `${baseUrl}/jobs`), page.click("#start")]);
  expect(created.status()).toBe(303);
  await page.context().close();
});

it("with JavaScript, a type from the list is picked in the form, keeping what was typed", async () => {
  const { page, problems } = await openPage(browser());
  await page.goto(`${baseUrl}/`);
  await page.fill("#input", '{"n": 1000}');
  await page.click("#types a[data-type=primes]");
  expect(new URL(page.url()).search).toBe("");
  expect(await page.inputValue("#type")).toBe("primes");
  expect(await page.inputValue("#input")).toBe('{"n": 1000}');
  expect(await page.inputValue("#field-n")).toBe("1000");
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("type");
  expect(problems).toEqual([]);
  await page.context().close();
});

it("takes a list line with a line break from the JSON box without a false error", async () => {
  const { page, problems } = await openPage(browser());
  await page.goto(`${baseUrl}/`);
  await page.selectOption("#type", "echo");
  await page.fill("#input", JSON.stringify({ lines: ["one\ntwo", "three"], delayMs: 0 }));
  await page.locator("#input").dispatchEvent("input");
  expect(await page.isVisible("#field-lines-error")).toBe(false);
  await page.fill("#input", JSON.stringify({ lines: "not a list" }));
  await waitForText(page, "#field-lines-error", "Expected a list of lines of text");
  expect(problems).toEqual([]);
  await page.context().close();
});

it("lists a job started here and deleted since as gone, and stops asking about it", async () => {
  const { page, problems } = await openPage(browser());
  const id = await startEchoFromForm(page);
  const control = (await page.context().cookies()).find((cookie) => cookie.name === "control")!.value;
  expect((await fetch(`${baseUrl}/jobs/${id}`, { method: "DELETE", headers: { "Control-Token": control } })).status).toBe(204);
  const asked: string[] = [];
  page.on("request", (request) => void (request.url().endsWith(`/jobs/${id}`) && asked.push(request.url())));
  await page.goto(`${baseUrl}/`);
  await waitForText(page, `#my-jobs-list li:has(a[href="/jobs/${id}"]) .badge`, "Gone");
  await page.waitForTimeout(4_500);
  expect(asked).toHaveLength(1);
  expect(problems.filter((p) => !p.includes(`/jobs/${id}`))).toEqual([]);
  await page.context().close();
});

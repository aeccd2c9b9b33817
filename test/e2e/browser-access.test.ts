// Control stays with whoever started the job: the start page's browser may cancel its
// job; the same job opened from a shared link, in a fresh browser, only watches.
import { expect, inject, it } from "vitest";
import { openPage, useChromium, waitForText } from "./browser";

const baseUrl = inject("baseUrl");

const browser = useChromium();

it("the start page creates a public job and may cancel it; a shared link shows no Cancel", async () => {
  const { page, problems } = await openPage(browser());
  await page.goto(`${baseUrl}/`);
  // Owners-only types are not offered to an anonymous visitor.
  expect(await page.locator("#type option").allTextContents()).not.toContain("ticker");
  await page.selectOption("#type", "sleepy");
  await page.fill("#input", '{"duration": "5 minutes"}');
  await Promise.all([page.waitForURL(/\/jobs\/[A-Za-z0-9_-]{32}$/), page.click("#start")]);
  const link = page.url();
  await waitForText(page, "#live-status", "Live");

  const { page: friend, problems: friendProblems } = await openPage(browser());
  await friend.goto(link);
  await waitForText(friend, "#live-status", "Live");
  expect(await friend.locator("#cancel-form").count()).toBe(0);
  // Even a hand-made post from the friend's browser is refused.
  const status = await friend.evaluate(async (url) => (await fetch(`${url}/cancel`, { method: "POST" })).status, link);
  expect(status).toBe(401);

  await page.click("#cancel-ask");
  await page.click("#cancel-yes");
  await waitForText(page, "#job-state", "Canceled");
  await waitForText(friend, "#job-state", "Canceled");
  expect(problems).toEqual([]);
  expect(friendProblems.filter((p) => !p.includes("/cancel"))).toEqual([]);
  await page.context().close();
  await friend.context().close();
});

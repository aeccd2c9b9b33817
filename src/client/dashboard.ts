// The dashboard in the browser: the server's list, kept live from the owner feed. Rows
// update in place as jobs progress and end; new jobs that match the filters appear at
// the top of the first page; removed ones go; the counts follow; ages and durations tick.
import type { FeedEntry, JobListing, JobState } from "../protocol";
import { ApiRequestError, createClient } from "../sdk/client";
import { isTerminal, JOB_STATES } from "../lib/job-state";
import { cursorPlace, listCursor, listedBefore } from "../lib/list-cursor";
import { ageText, emptyListNote, jobName, number, progressNote, stateLabel, tookText } from "../pages/format";
import { listingOf } from "../owners/listing";
import { cancelInPage } from "./cancel";
import { byId, el, setText } from "./dom";
import { serverClock } from "./server-clock";

const root = byId("dashboard");
const csrf = root.dataset.csrf!;
/** Ages and durations count from the server's times. */
const serverNow = serverClock(root.dataset.now);
const limit = Number(root.dataset.limit);
const firstPage = root.dataset.firstPage === "true";
const filter = JSON.parse(root.dataset.filter!) as { state: JobState | null; type: string | null; tag: string | null };
const tbody = byId<HTMLTableSectionElement>("jobs");
/** Where the next page starts (its "Older jobs" cursor): jobs listed after it are on a later page, however few rows this one has left. */
let olderThan = cursorOfOlder();

function matches(job: JobListing): boolean {
  return (!filter.state || job.state === filter.state) && (!filter.type || job.type === filter.type) && (!filter.tag || job.tags.includes(filter.tag));
}

function rowOf(id: string): HTMLTableRowElement | null {
  return tbody.querySelector<HTMLTableRowElement>(`tr[data-job="${CSS.escape(id)}"]`);
}

/** The markup of src/pages/dashboard-page.ts's jobRow. */
function newRow(job: JobListing): HTMLTableRowElement {
  const row = el("tr");
  row.dataset.job = job.id;
  const link = el("a", "job-link", job.type);
  link.href = `/jobs/${encodeURIComponent(job.id)}`;
  link.setAttribute("aria-label", jobName(job));
  const name = el("td");
  name.append(link);
  if (job.tags.length) {
    const tags = el("span", "tags");
    for (const tag of job.tags) tags.append(el("span", "tag", tag));
    name.append(" ", tags);
  }
  const progress = el("td", "progress-cell");
  const bar = el("progress");
  bar.setAttribute("aria-label", `Progress of ${jobName(job)}`);
  progress.append(bar, " ", el("span", "progress-note"));
  const age = el("td", "age");
  age.append(el("time"));
  const actions = el("td", "row-actions");
  const rerun = rowForm(`/jobs/${job.id}/rerun`, "rerun");
  rerun.append(button("submit", "quiet", "Run again", jobName(job)));
  actions.append(cancelForm(job), rerun);
  const badge = el("td");
  badge.append(el("span", "badge"));
  row.append(name, badge, progress, age, el("td", "took"), actions);
  return row;
}

/** Cancel in a row, asking first: the markup of dashboard-page.ts's cancelForm. */
function cancelForm(job: JobListing): HTMLFormElement {
  const name = jobName(job);
  const form = rowForm(`/jobs/${job.id}/cancel`, "cancel");
  const question = el("span", "confirm", "Cancel it?");
  question.setAttribute("role", "group");
  question.setAttribute("aria-label", `Cancel ${name}?`);
  question.hidden = true;
  question.append(button("submit", "quiet danger-text yes", "Yes"), button("button", "quiet no", "No"));
  const error = el("span", "cancel-error");
  error.setAttribute("role", "alert");
  form.append(hiddenField("back", location.pathname + location.search), button("submit", "quiet danger-text ask", "Cancel", name), question, error);
  enhanceCancel(form);
  return form;
}

/**
 * A row's Cancel cancels in the page (src/client/cancel.ts): the row shows the answer, and
 * once the job has ended the keyboard's place is its Run again; or, when the row left the
 * list (filtered by a state it no longer has), the link of the row that took its place.
 */
function enhanceCancel(form: HTMLFormElement): void {
  // Noted as "Yes" is pressed: the feed may take the row away before the cancel answers.
  let neighbour: Element | null = null;
  form.querySelector(".yes")!.addEventListener("click", () => {
    const row = form.closest("tr");
    neighbour = row?.nextElementSibling ?? row?.previousElementSibling ?? null;
  });
  cancelInPage(form, (job) => {
    show(listingOf(job));
    sayIfEmpty();
  }, () => {
    const row = form.closest("tr")!;
    if (row.isConnected) return runAgainOf(row);
    return neighbour?.querySelector<HTMLElement>(".job-link") ?? document.querySelector<HTMLElement>('.counts [aria-current="page"]');
  });
}

/** A row's form posts with the session's CSRF token, as without JavaScript. */
function rowForm(action: string, className: string): HTMLFormElement {
  const form = el("form", className);
  form.method = "post";
  form.action = action;
  form.append(hiddenField("csrf", csrf));
  return form;
}

function hiddenField(name: string, value: string): HTMLInputElement {
  const input = el("input");
  input.type = "hidden";
  input.name = name;
  input.value = value;
  return input;
}

/** A button whose name, for screen readers, ends with the job it is for. */
function button(type: "submit" | "button", className: string, label: string, job = ""): HTMLButtonElement {
  const element = el("button", className, label);
  element.type = type;
  if (job) element.append(el("span", "visually-hidden", ` ${job}`));
  return element;
}

function render(row: HTMLTableRowElement, job: JobListing): void {
  row.dataset.created = String(job.createdAt);
  row.dataset.started = job.startedAt === null ? "" : String(job.startedAt);
  row.dataset.finished = job.finishedAt === null ? "" : String(job.finishedAt);
  const badge = row.querySelector<HTMLElement>(".badge")!;
  badge.className = `badge state-${job.state}`;
  setText(badge, stateLabel(job.state));
  const bar = row.querySelector("progress")!;
  bar.max = 100;
  if (job.percent === null && !isTerminal(job.state)) bar.removeAttribute("value");
  else bar.value = job.percent ?? 0;
  setText(row.querySelector<HTMLElement>(".progress-note")!, progressNote(job));
  hideCancelOnceEnded(row, job);
  const time = row.querySelector("time")!;
  time.dateTime = new Date(job.createdAt).toISOString();
  // Now, not at the next tick: a new row's times were empty for up to a second, and a card grew when they came.
  showTimes(row, serverNow());
}

/** Cancel goes when the job ends; the keyboard's place, if it was there (its question open), goes to Run again. */
function hideCancelOnceEnded(row: HTMLTableRowElement, job: JobListing): void {
  const cancel = row.querySelector<HTMLFormElement>("form.cancel")!;
  if (cancel.hidden === isTerminal(job.state)) return;
  const focused = cancel.contains(document.activeElement);
  cancel.hidden = isTerminal(job.state);
  if (focused && cancel.hidden) runAgainOf(row).focus();
}

function runAgainOf(row: HTMLTableRowElement): HTMLButtonElement {
  return row.querySelector<HTMLButtonElement>("form.rerun button")!;
}

/** Ages and durations move on between events. */
function tick(): void {
  const now = serverNow();
  for (const row of tbody.rows) showTimes(row, now);
}

function showTimes(row: HTMLTableRowElement, now: number): void {
  setText(row.querySelector("time")!, ageText(now - Number(row.dataset.created)));
  const started = row.dataset.started ? Number(row.dataset.started) : null;
  const finished = row.dataset.finished ? Number(row.dataset.finished) : null;
  setText(row.querySelector<HTMLElement>(".took")!, tookText({ startedAt: started, finishedAt: finished }, now));
}

function apply(entry: FeedEntry): void {
  change(entry);
  sayIfEmpty();
}

/** Says the list is empty when the last row has left (by the feed, or a cancel's answer in a list filtered by state). */
function sayIfEmpty(): void {
  const note = emptyListNote(tbody.rows.length, firstPage, olderThan !== null);
  byId("no-jobs").hidden = note !== "none";
  byId("none-here").hidden = note !== "none-here";
}

function change(entry: FeedEntry): void {
  if (entry.type === "removed") rowOf(entry.data.id)?.remove();
  else show(entry.data);
}

/** A job as it is now, from the feed or a cancel's answer: its row updated, added, or gone if the filters no longer match it. */
function show(job: JobListing): void {
  let row = rowOf(job.id);
  if (row && !matches(job)) {
    row.remove();
    return;
  }
  if (!row) {
    // Only the first page shows jobs as they come, newest first.
    if (!firstPage || !matches(job)) return;
    const rows = [...tbody.rows];
    const last = rows.at(-1);
    // Past where the next page starts, or past a full page's last row, it is on a later page
    // (which a full page without one now has).
    if (olderThan ? !listedBefore(job, olderThan) : last && rows.length >= limit && !listedBefore(job, listed(last))) {
      if (!olderThan && last) olderAfter(last);
      return;
    }
    row = newRow(job);
    tbody.insertBefore(row, rows.find((r) => listedBefore(job, listed(r))) ?? null);
    if (tbody.rows.length > limit) {
      while (tbody.rows.length > limit) tbody.deleteRow(-1);
      olderAfter(tbody.rows[tbody.rows.length - 1]!);
    }
  }
  render(row, job);
}

/** A row's place in the list. */
function listed(row: HTMLTableRowElement): { createdAt: number; id: string } {
  return { createdAt: Number(row.dataset.created), id: row.dataset.job! };
}

/**
 * Rows pushed off the first page by new jobs are older jobs now: "Older jobs" starts
 * right after the last row shown (else the next page would skip the rows that left), and
 * appears if the page had none.
 */
function olderAfter(last: HTMLTableRowElement): void {
  const pager = document.querySelector(".pager")!;
  let older = document.getElementById("older") as HTMLAnchorElement | null;
  if (!older) {
    older = el("a", "", "Older jobs →");
    older.id = "older";
    pager.append(older);
  }
  const params = new URLSearchParams(location.search);
  olderThan = listed(last);
  params.set("cursor", listCursor(olderThan));
  older.href = `/dashboard?${params}`;
}

function cursorOfOlder(): { createdAt: number; id: string } | null {
  const older = document.getElementById("older") as HTMLAnchorElement | null;
  const cursor = older && new URL(older.href).searchParams.get("cursor");
  return cursor ? cursorPlace(cursor) : null;
}

function showCounts(counts: Record<JobState, number>): void {
  for (const state of JOB_STATES) setText(byId(`count-${state}`), number(counts[state]));
  setText(byId("count-all"), number(JOB_STATES.reduce((sum, state) => sum + counts[state], 0)));
}

/** The owner feed through the typed client, from the position of the list the server rendered. */
async function follow(): Promise<void> {
  const status = byId("live-status");
  const feed = createClient().feed({
    since: root.dataset.feed ?? "",
    onStatus: (live) => setText(status, live === "live" ? "Live" : live === "reconnecting" ? "Reconnecting…" : "Connecting…"),
    onCounts: showCounts,
  });
  try {
    for await (const entry of feed) apply(entry);
  } catch (error) {
    // 401: the session expired (or was signed out elsewhere); reloading asks to sign in.
    const signedOut = error instanceof ApiRequestError && error.status === 401;
    setText(status, signedOut ? "Signed out: reload to sign in again" : "Not live: reload to reconnect");
    // The header no longer says who is signed in, nor offers a Sign out that would be refused.
    if (signedOut) document.querySelector("form.sign-out")?.replaceWith(Object.assign(el("a", "sign-out", "Sign in again"), { href: "/dashboard" }));
  }
}

for (const form of tbody.querySelectorAll<HTMLFormElement>("form.cancel")) enhanceCancel(form);
tick();
setInterval(tick, 1_000);
void follow();

// The dashboard in the browser: the server's list, kept live from the owner feed. Rows
// update in place as jobs progress and end; new jobs that match the filters appear at
// the top of the first page; removed ones go; the counts follow; ages and durations tick.
import type { FeedEntry, JobListing, JobState } from "../protocol";
import { createClient } from "../sdk/client";
import { isTerminal, JOB_STATES } from "../lib/job-state";
import { ageText, number, progressNote, stateLabel, tookText } from "../pages/format";
import { byId, el, setText } from "./dom";

const root = byId("dashboard");
const csrf = root.dataset.csrf!;
const limit = Number(root.dataset.limit);
const firstPage = root.dataset.firstPage === "true";
const filter = JSON.parse(root.dataset.filter!) as { state: JobState | null; type: string | null; tag: string | null };
const tbody = byId<HTMLTableSectionElement>("jobs");

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
  const name = el("td");
  name.append(link);
  if (job.tags.length) {
    const tags = el("span", "tags");
    for (const tag of job.tags) tags.append(el("span", "tag", tag));
    name.append(" ", tags);
  }
  const progress = el("td", "progress-cell");
  progress.append(el("progress"), " ", el("span", "progress-note"));
  const age = el("td", "age");
  age.append(el("time"));
  const actions = el("td", "row-actions");
  actions.append(actionForm(`/jobs/${job.id}/cancel`, "cancel", "Cancel", true), actionForm(`/jobs/${job.id}/rerun`, "rerun", "Run again", false));
  const badge = el("td");
  badge.append(el("span", "badge"));
  row.append(name, badge, progress, age, el("td", "took"), actions);
  return row;
}

function actionForm(action: string, className: string, label: string, back: boolean): HTMLFormElement {
  const form = el("form", className);
  form.method = "post";
  form.action = action;
  const hidden = (name: string, value: string) => {
    const input = el("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    return input;
  };
  form.append(hidden("csrf", csrf));
  if (back) form.append(hidden("back", "dashboard"));
  form.append(el("button", className === "cancel" ? "quiet danger-text" : "quiet", label));
  form.querySelector("button")!.type = "submit";
  return form;
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
  row.querySelector<HTMLFormElement>("form.cancel")!.hidden = isTerminal(job.state);
  const time = row.querySelector("time")!;
  time.dateTime = new Date(job.createdAt).toISOString();
}

/** Ages and durations move on between events. */
function tick(): void {
  const now = Date.now();
  for (const row of tbody.rows) {
    setText(row.querySelector("time")!, ageText(now - Number(row.dataset.created)));
    const started = row.dataset.started ? Number(row.dataset.started) : null;
    const finished = row.dataset.finished ? Number(row.dataset.finished) : null;
    setText(row.querySelector<HTMLElement>(".took")!, tookText({ startedAt: started, finishedAt: finished }, now));
  }
}

function apply(entry: FeedEntry): void {
  change(entry);
  byId("no-jobs").hidden = tbody.rows.length > 0;
}

function change(entry: FeedEntry): void {
  if (entry.type === "removed") {
    rowOf(entry.data.id)?.remove();
    return;
  }
  const job = entry.data;
  let row = rowOf(job.id);
  if (row && !matches(job)) {
    row.remove();
    return;
  }
  if (!row) {
    // Only the first page shows jobs as they come, newest first.
    if (!firstPage || !matches(job)) return;
    const newest = tbody.rows[0];
    if (newest && Number(newest.dataset.created) > job.createdAt && tbody.rows.length >= limit) return;
    row = newRow(job);
    const before = [...tbody.rows].find((r) => Number(r.dataset.created) < job.createdAt) ?? null;
    tbody.insertBefore(row, before);
    while (tbody.rows.length > limit) tbody.deleteRow(-1);
  }
  render(row, job);
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
  } catch {
    setText(status, "Not live: reload to reconnect");
  }
}

tick();
setInterval(tick, 1_000);
void follow();

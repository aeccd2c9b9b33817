// The job page in the browser: takes over the server-rendered snapshot and keeps it live
// with the typed client (src/sdk), which follows the job and resumes by itself.
import type { JobEvent, JobSnapshot } from "../protocol";
import { isTerminal, percentDone } from "../lib/job-state";
import { cancelInPage } from "./cancel";
import { enableCopyButtons } from "./copy-buttons";
import { JobNews } from "./job-news";
import { byId } from "./dom";
import { applyEvent } from "./job-model";
import { renderGone, renderJob } from "./job-view";
import { ApiRequestError, createClient, type LiveStatus } from "../sdk/client";
import { LogView } from "./log-view";
import { claimStarted } from "./my-jobs";
import { serverClock } from "./server-clock";

const root = byId("job");
let job = JSON.parse(root.dataset.snapshot!) as JobSnapshot;
const log = new LogView(byId<HTMLOListElement>("log"), byId("no-log"), byId<HTMLButtonElement>("jump-to-end"), job.createdAt);
/** For screen readers: the log list is not a live region; this says, now and then, what came. */
const news = new JobNews(byId("job-news"), percentDone(job.progress, job.state));

const serverNow = serverClock(root.dataset.now);
const render = () => renderJob(job, serverNow());
// Elapsed time, the ETA and step countdowns move on between events.
const clock = setInterval(() => {
  render();
  if (isTerminal(job.state)) clearInterval(clock);
}, 1_000);

type PageStatus = LiveStatus | "catching-up" | "loading" | "ended" | "gone";

const STATUS_TEXT: Record<PageStatus, string> = {
  connecting: "Connecting…",
  "catching-up": "Catching up…",
  live: "Live",
  reconnecting: "Reconnecting…",
  loading: "Loading the rest of the log…",
  ended: "",
  gone: "This job no longer exists.",
};

/** The connection as the client last said it. */
let connection: LiveStatus = "connecting";
/**
 * False while the log holds a replay back until it reaches the job's present (see
 * showPending). A long log's first page came with the page: the rest is such a replay.
 */
let caughtUp = Number(root.dataset.since) >= job.lastSeq;

/** Connected is not yet live while the log holds back a replay: until it caught up, the page shows the past. */
function showConnection(): void {
  if (isTerminal(job.state)) showStatus(connection === "reconnecting" ? connection : "loading");
  else showStatus(connection === "live" && !caughtUp ? "catching-up" : connection);
}

function showStatus(status: PageStatus): void {
  const element = byId("live-status");
  // The same words again would be said again (it is a live region).
  if (element.dataset.status === status) return;
  element.dataset.status = status;
  element.textContent = STATUS_TEXT[status];
  if (status === "gone") showGone();
}

/** Deleted or expired while the page was open: nothing about it moves on any more. */
function showGone(): void {
  clearInterval(clock);
  renderGone(job);
  const cancel = document.getElementById("cancel-form");
  if (cancel) cancel.hidden = true;
}

/** Events wait here and reach the page together, at most every BATCH_MS: a replay of thousands is one update, not thousands. */
const BATCH_MS = 50;
let pending: JobEvent[] = [];
let batch: ReturnType<typeof setTimeout> | null = null;

function onEvent(event: JobEvent): void {
  pending.push(event);
  batch ??= setTimeout(showPending, BATCH_MS);
}

function showPending(): void {
  batch = null;
  const events = pending;
  pending = [];
  // The snapshot already holds every event up to its lastSeq; older ones only feed the log.
  const before = job.lastSeq;
  const wasTerminal = isTerminal(job.state);
  for (const event of events) if (event.seq > job.lastSeq) job = applyEvent(job, event);
  if (job.lastSeq !== before) render();
  const lines = events.filter((event): event is Extract<JobEvent, { type: "log" }> => event.type === "log");
  // News is what happened since the snapshot: not the history a page replays as it opens or resumes.
  news.tell(lines.filter((line) => line.seq > before).map((line) => line.data.message), isTerminal(job.state) ? null : percentDone(job.progress, job.state));
  // Ended: no more "Live" while the connection closes, and the last lines are said at once.
  if (!wasTerminal && isTerminal(job.state)) {
    showStatus("ended");
    news.flush();
  }
  // Still replaying what happened before this connection: the log waits until it caught up.
  const behind = (events.at(-1)?.seq ?? 0) < job.lastSeq;
  log.append(lines, behind);
  caughtUp = !behind;
  if (!isTerminal(job.state)) showConnection();
}

/**
 * Cancel asks first ("Cancel this job?", "Yes, cancel it", "Keep it running") and cancels
 * in the page (src/client/cancel.ts); once the job has ended the keyboard's place is its
 * state. The form is there only for a viewer who controls the job (its control cookie or owner).
 */
function enhanceCancel(): void {
  const form = document.getElementById("cancel-form") as HTMLFormElement | null;
  if (!form) return;
  cancelInPage(form, (canceled) => ((job = canceled), render()), () => byId("job-state"));
}

function localizeCreated(): void {
  const created = byId("created");
  created.textContent = new Date(job.createdAt).toLocaleString();
}

claimStarted(job);
enableCopyButtons();
enhanceCancel();
localizeCreated();
render();
// The server rendered the log's first page; a finished job's rest is a replay to read to its end.
const since = Number(root.dataset.since);
if (isTerminal(job.state) && since >= job.lastSeq) showStatus("ended");
else void follow(since);

async function follow(since: number): Promise<void> {
  const events = createClient().follow(job.id, {
    since,
    onSnapshot: (snapshot) => ((job = snapshot), render()),
    onPresence: (viewers) => ((job = { ...job, viewers }), render()),
    onStatus: (status) => ((connection = status), showConnection()),
  });
  try {
    for await (const event of events) onEvent(event);
    // Its last lines are shown before the page says the stream has ended, not up to a batch later.
    if (batch) {
      clearTimeout(batch);
      showPending();
    }
    // Nothing more comes: lines still held for the replay to catch up show now (a snapshot
    // counts the webhook's events, which come after the end the stream stops at).
    log.append([]);
    showStatus("ended");
  } catch (error) {
    if (error instanceof ApiRequestError && (error.status === 404 || error.status === 410)) {
      // Lines a replay held back until it caught up, which it never will now.
      log.append([]);
      showStatus("gone");
    } else throw error;
  }
}

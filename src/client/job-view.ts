// Puts a snapshot on the job page: the same markup src/pages/job-page.ts renders, updated
// in place (steps by name) so focus, selection and screen readers are not disturbed.
import type { JobSnapshot, StepsSummary } from "../protocol";
import { isTerminal, percentDone } from "../lib/job-state";
import { duration, elapsedMs, errorText, gapText, watching, listedSteps, number, pretty, progressText, stateLabel, stepDetail, stepsText } from "../pages/format";
import { byId, el, setText } from "./dom";

export function renderJob(job: JobSnapshot, now: number): void {
  const badge = byId("job-state");
  badge.className = `badge state-${job.state}`;
  setText(badge, stateLabel(job.state));
  setText(byId("elapsed"), duration(elapsedMs(job, now)));
  setText(byId("retries"), number(job.steps.retries));
  setText(byId("viewers"), watching(job));
  renderProgress(job, now);
  renderSteps(job.steps, now);
  renderOutcome(job);
  if (isTerminal(job.state)) setText(byId("no-log"), "This job logged nothing.");
  hideCancelOnceEnded(job);
  const percent = percentDone(job.progress, job.state);
  document.title = `${percent === null || isTerminal(job.state) ? stateLabel(job.state) : `${percent} %`} · ${job.type} job · Live jobs`;
}

/**
 * Deleted or expired while the page was open: what the page last saw stays, but nothing
 * that says what happens now or next (viewers, a step's "wakes in 39 s", the ETA).
 */
export function renderGone(job: JobSnapshot): void {
  const badge = byId("job-state");
  badge.className = "badge state-unknown";
  setText(badge, "Gone");
  setText(byId("viewers"), "none (it no longer exists)");
  for (const detail of document.querySelectorAll<HTMLElement>("#steps :is(.step-running, .step-waiting, .step-sleeping) .step-detail")) setText(detail, "");
  setText(byId("progress-text"), progressText(job, null));
}

/** Cancel goes when the job ends; the keyboard's place, if it was there (its question open), goes to the state. */
function hideCancelOnceEnded(job: JobSnapshot): void {
  const cancel = document.getElementById("cancel-form");
  if (!cancel || cancel.hidden === isTerminal(job.state)) return;
  const focused = cancel.contains(document.activeElement);
  cancel.hidden = isTerminal(job.state);
  if (focused && cancel.hidden) byId("job-state").focus();
}

function renderProgress(job: JobSnapshot, now: number): void {
  const bar = byId<HTMLProgressElement>("progress-bar");
  const percent = percentDone(job.progress, job.state);
  // No value makes <progress> indeterminate, right for a running job that reports none.
  if (percent === null && !isTerminal(job.state)) bar.removeAttribute("value");
  else bar.value = percent ?? 0;
  setText(bar, `${percent ?? 0} %`);
  setText(byId("progress-text"), progressText(job, now));
}

/** The summary's steps in place: items are kept by position, so focus and selection stay put. */
function renderSteps(steps: StepsSummary, now: number): void {
  setText(byId("steps-summary"), stepsText(steps));
  const list = byId("steps");
  const items = new Map([...list.querySelectorAll<HTMLElement>("li[data-step]")].map((li) => [li.dataset.step!, li]));
  const rows = listedSteps(steps).map((row) => {
    if ("gap" in row) return el("li", "step step-gap", gapText(row.gap));
    let item = items.get(String(row.position));
    if (!item) {
      item = el("li");
      item.dataset.step = String(row.position);
      item.append(el("span", "step-name", row.name), " ", el("span", "step-detail"));
    }
    item.className = `step step-${row.state}`;
    setText(item.querySelector<HTMLElement>(".step-detail")!, stepDetail(row, now));
    return item;
  });
  const current = [...list.children];
  if (rows.length !== current.length || rows.some((row, i) => row !== current[i])) list.replaceChildren(...rows);
}

function renderOutcome(job: JobSnapshot): void {
  byId("result-box").hidden = job.state !== "succeeded";
  if (job.state === "succeeded") setText(byId("result"), pretty(job.result));
  const errorBox = byId("error-box");
  errorBox.hidden = !job.error;
  errorBox.className = `outcome ${job.state === "canceled" ? "canceled" : "error"}`;
  if (job.error) {
    setText(byId("error-heading"), job.state === "canceled" ? "Canceled" : "Error");
    setText(byId("error-message"), errorText(job.error));
  }
}

// Puts a snapshot on the job page: the same markup src/pages/job-page.ts renders, updated
// in place (steps by name) so focus, selection and screen readers are not disturbed.
import type { JobSnapshot, StepSummary } from "../protocol";
import { isTerminal } from "../lib/job-state";
import { duration, elapsedMs, errorText, percentDone, pretty, progressText, stateLabel, stepDetail } from "../pages/format";
import { byId, el, setText } from "./dom";

export function renderJob(job: JobSnapshot, now: number): void {
  const badge = byId("job-state");
  badge.className = `badge state-${job.state}`;
  setText(badge, stateLabel(job.state));
  setText(byId("elapsed"), duration(elapsedMs(job, now)));
  setText(byId("attempts"), String(job.attempts));
  renderProgress(job, now);
  renderSteps(job.steps, now);
  renderOutcome(job);
  const cancel = document.getElementById("cancel-form");
  if (cancel) cancel.hidden = isTerminal(job.state);
  const percent = percentDone(job.progress, job.state);
  document.title = `${percent === null || isTerminal(job.state) ? stateLabel(job.state) : `${percent} %`} · ${job.type} job · Live jobs`;
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

function renderSteps(steps: StepSummary[], now: number): void {
  const list = byId("steps");
  const items = new Map([...list.querySelectorAll<HTMLElement>("li[data-step]")].map((li) => [li.dataset.step!, li]));
  for (const step of steps) {
    let item = items.get(step.name);
    if (!item) {
      item = el("li");
      item.dataset.step = step.name;
      item.append(el("span", "step-name", step.name), " ", el("span", "step-detail"));
      list.append(item);
    }
    item.className = `step step-${step.state}`;
    setText(item.querySelector<HTMLElement>(".step-detail")!, stepDetail(step, now));
  }
  byId("no-steps").hidden = steps.length > 0;
}

function renderOutcome(job: JobSnapshot): void {
  byId("result-box").hidden = job.state !== "succeeded";
  if (job.state === "succeeded") setText(byId("result"), pretty(job.result));
  byId("error-box").hidden = !job.error;
  if (job.error) {
    setText(byId("error-heading"), job.state === "canceled" ? "Canceled" : "Error");
    setText(byId("error-message"), errorText(job.error));
  }
}

// "Your jobs" on the start page, with each job's state kept current by polling its status
// while it runs (one small JSON read per job, only while the page is visible).
import type { JobSnapshot, JobState } from "../protocol";
import { isTerminal } from "../lib/job-state";
import { jobName, stateLabel } from "../pages/format";
import { el } from "./dom";
import { loadJobs, saveJobs, type MyJob } from "./my-jobs";

const POLL_MS = 2_000;
type Known = JobState | "expired";

export function showMyJobs(section: HTMLElement, list: HTMLUListElement, clear: HTMLButtonElement): void {
  const states = new Map<string, Known>();
  const badges = new Map<string, HTMLElement>();

  const render = () => {
    const jobs = loadJobs();
    section.hidden = jobs.length === 0;
    badges.clear();
    list.replaceChildren(...jobs.map((job) => item(job, states.get(job.id), badges)));
  };

  const poll = async () => {
    const running = loadJobs().filter((job) => !isSettled(states.get(job.id)));
    if (document.visibilityState === "visible") await Promise.all(running.map(async (job) => {
      const state = await fetchState(job.id);
      if (!state) return;
      states.set(job.id, state);
      const badge = badges.get(job.id);
      if (badge) setBadge(badge, state);
    }));
    if (running.length) setTimeout(() => void poll(), POLL_MS);
  };

  clear.addEventListener("click", () => {
    saveJobs([]);
    render();
  });
  render();
  void poll();
}

function item(job: MyJob, state: Known | undefined, badges: Map<string, HTMLElement>): HTMLLIElement {
  const li = el("li");
  const link = el("a", "", jobName(job));
  link.href = `/jobs/${encodeURIComponent(job.id)}`;
  const badge = el("span");
  setBadge(badge, state);
  badges.set(job.id, badge);
  const time = el("time", "hint", new Date(job.createdAt).toLocaleString());
  time.dateTime = new Date(job.createdAt).toISOString();
  li.append(link, " ", badge, " ", time);
  return li;
}

function setBadge(badge: HTMLElement, state: Known | undefined): void {
  badge.className = `badge state-${state ?? "unknown"}`;
  badge.textContent = state === undefined ? "…" : state === "expired" ? "Gone" : stateLabel(state);
}

function isSettled(state: Known | undefined): boolean {
  return state === "expired" || (state !== undefined && isTerminal(state));
}

async function fetchState(id: string): Promise<Known | null> {
  const response = await fetch(`/jobs/${encodeURIComponent(id)}`, { headers: { Accept: "application/json" } }).catch(() => null);
  // 410: deleted or expired; 404: an id this deployment no longer recognizes.
  if (response?.status === 404 || response?.status === 410) return "expired";
  if (!response?.ok) return null;
  return ((await response.json()) as JobSnapshot).state;
}

// The dashboard: an owner's jobs, counted by state, filtered, a page at a time, each with
// a link, Cancel and Run again. Complete without JavaScript (a plain paged list);
// src/client/dashboard.ts keeps it live from the owner feed. Signing in is a form that
// takes an owner token or a JWT.
import { html } from "hono/html";
import type { JobList, JobListing, JobState } from "../protocol";
import { isTerminal, JOB_STATES } from "../lib/job-state";
import { DEFAULT_LIST_LIMIT } from "../owners/index-store";
import { ageText, emptyListNote, jobName, number, progressNote, stateLabel, tookText } from "./format";
import { csrfField, page, type Html } from "./layout";

export interface DashboardView {
  owner: string;
  list: JobList;
  filter: { state?: JobState; type?: string; tag?: string; cursor?: string };
  types: string[];
  csrf: string;
  now: number;
  limit: number;
}


/**
 * Sign-in, or sign-in again after a refused credential: then, as the start page's form
 * errors, the summary takes the focus (here by `autofocus`: this page has no script) and
 * the field is marked invalid and described by the reason.
 */
/** The sign-in form: with why a credential was refused (`error`), or a note that a session ended. */
export function signInPage(error?: string, sessionEnded = false): Html {
  return page(
    { title: "Sign in" },
    html`<h1>Sign in</h1>
<p class="lead">Sign in with your owner token (from <code>API_TOKENS</code>) or a JWT from your site to see and manage your jobs.</p>
${sessionEnded && !error ? html`<p id="session-ended" class="notice" role="status">Your session has ended (it expired, or the credential it was started with no longer works): sign in again.</p>` : ""}
${error ? html`<div id="form-errors" class="error-summary" role="alert" tabindex="-1" autofocus><h2>Not signed in</h2><p id="credential-error">${error}</p></div>` : ""}
<form id="sign-in" class="start" method="post" action="/session">
  <div class="field">
    <label for="credential">Token or JWT</label>
    <input id="credential" name="credential" type="password" autocomplete="current-password" required maxlength="4096"
      aria-describedby="${error ? "credential-error " : ""}credential-hint" ${error ? html`aria-invalid="true"` : ""}>
    <p id="credential-hint" class="hint">It is checked once and never stored in the browser: you get a session cookie for 12 hours.</p>
  </div>
  <button type="submit">Sign in</button>
</form>`,
  );
}

export function dashboardPage(view: DashboardView): Html {
  const { list, filter, csrf } = view;
  const total = JOB_STATES.reduce((sum, state) => sum + list.counts[state], 0);
  // The counts are the owner's, by state, whatever the type or tag (the feed keeps them so):
  // with either filter on, fewer rows match than the highlighted count says, and the page says why.
  const narrowed = Boolean(filter.type || filter.tag);
  const empty = emptyListNote(list.jobs.length, !filter.cursor, list.next !== null);
  const query = (extra: Record<string, string | undefined>) => {
    const params = new URLSearchParams();
    const limit = view.limit === DEFAULT_LIST_LIMIT ? undefined : String(view.limit);
    for (const [key, value] of Object.entries({ state: filter.state, type: filter.type, tag: filter.tag, limit, ...extra })) if (value) params.set(key, value);
    const text = params.toString();
    return text ? `/dashboard?${text}` : "/dashboard";
  };
  return page(
    { title: "Your jobs", script: "dashboard" },
    html`<div class="dashboard" id="dashboard" data-now="${view.now}" data-csrf="${csrf}" data-limit="${view.limit}" data-feed="${list.feed}" data-first-page="${filter.cursor ? "false" : "true"}"
  data-filter="${JSON.stringify({ state: filter.state ?? null, type: filter.type ?? null, tag: filter.tag ?? null })}">
<div class="job-head">
  <h1>Your jobs</h1>
  <p id="live-status" class="live-status" role="status" aria-live="polite"></p>
  <form method="post" action="/session/end" class="sign-out">${csrfField(csrf)}<span class="hint">Signed in as <strong>${view.owner}</strong></span> <button type="submit" class="quiet">Sign out</button></form>
</div>
<nav class="counts" aria-label="${narrowed ? "Jobs by state, counting all your jobs" : "Jobs by state"}">
  <a href="${query({ state: undefined })}" class="count" ${filter.state ? "" : current}>All <span id="count-all">${number(total)}</span></a>
  ${JOB_STATES.map((state) => html`<a href="${query({ state })}" class="count state-${state}" ${filter.state === state ? current : ""}>${stateLabel(state)} <span id="count-${state}">${number(list.counts[state])}</span></a>`)}
  ${narrowed ? html`<span id="counts-scope" class="hint">Counts are of all your jobs</span>` : ""}
</nav>
<form class="filters" method="get" action="/dashboard" role="search">
  ${view.limit === DEFAULT_LIST_LIMIT ? "" : html`<input type="hidden" name="limit" value="${view.limit}">`}
  <label>State <select name="state"><option value="">any</option>${JOB_STATES.map((state) => html`<option value="${state}" ${filter.state === state ? "selected" : ""}>${state}</option>`)}</select></label>
  <label>Type <select name="type"><option value="">any</option>${view.types.map((type) => html`<option ${filter.type === type ? "selected" : ""}>${type}</option>`)}</select></label>
  <label>Tag <input name="tag" value="${filter.tag ?? ""}" maxlength="40" size="12"></label>
  <button type="submit">Filter</button>
</form>
<table class="jobs" aria-label="Jobs, newest first">
  <thead><tr><th scope="col">Job</th><th scope="col">State</th><th scope="col">Progress</th><th scope="col">Created</th><th scope="col">Run time</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody id="jobs">${list.jobs.map((job) => jobRow(job, { csrf, back: query({ cursor: filter.cursor }) }, view.now))}</tbody>
</table>
<p id="no-jobs" class="empty" ${empty === "none" ? "" : "hidden"}>${filter.state || filter.type || filter.tag ? "No jobs match these filters." : html`No jobs yet. <a href="/">Start one</a>, or create them with your token.`}</p>
<p id="none-here" class="empty" ${empty === "none-here" ? "" : "hidden"}>No jobs left on this page.</p>
<nav class="pager" aria-label="Pages">
  ${filter.cursor ? html`<a href="${query({})}">← Newest</a>` : ""}
  ${list.next ? html`<a id="older" href="${query({ cursor: list.next })}">Older jobs →</a>` : ""}
</nav>
</div>`,
  );
}

/** The count whose state the list shows, said as such (markup: a plain string would come out escaped). */
const current = html`aria-current="page"`;

/** What a row's forms post besides their fields: the CSRF token, and the dashboard page to come back to. */
interface RowForms {
  csrf: string;
  back: string;
}

/** One job's row; src/client/dashboard.ts builds the same markup for jobs that appear live. */
export function jobRow(job: JobListing, forms: RowForms, now: number): Html {
  const active = !isTerminal(job.state);
  // Named as the row's buttons are: twenty links read "demo" alike, and bars have no name of their own.
  const name = jobName(job);
  return html`<tr data-job="${job.id}" data-created="${job.createdAt}" data-started="${job.startedAt ?? ""}" data-finished="${job.finishedAt ?? ""}">
<td><a href="/jobs/${job.id}" class="job-link" aria-label="${name}">${job.type}</a>${job.tags.length ? html` <span class="tags">${job.tags.map((tag) => html`<span class="tag">${tag}</span>`)}</span>` : ""}</td>
<td><span class="badge state-${job.state}">${stateLabel(job.state)}</span></td>
<td class="progress-cell"><progress max="100" aria-label="Progress of ${name}" ${job.percent === null ? (active ? "" : html`value="0"`) : html`value="${job.percent}"`}></progress> <span class="progress-note">${progressNote(job)}</span></td>
<td class="age"><time datetime="${new Date(job.createdAt).toISOString()}">${ageText(now - job.createdAt)}</time></td>
<td class="took">${tookText(job, now)}</td>
<td class="row-actions">
  ${cancelForm(job, forms, active)}
  <form method="post" action="/jobs/${job.id}/rerun" class="rerun">${csrfField(forms.csrf)}<button type="submit" class="quiet">Run again<span class="visually-hidden"> ${name}</span></button></form>
</td>
</tr>`;
}

/**
 * A row's Cancel; its buttons say which job they are for. Without JavaScript one click
 * posts it, back to the same page of the dashboard; with it, src/client/ask-first.ts
 * shows the hidden question first and only "Yes" cancels, in the page
 * (src/client/cancel.ts), and .cancel-error says why it failed.
 */
function cancelForm(job: JobListing, forms: RowForms, active: boolean): Html {
  const name = jobName(job);
  return html`<form method="post" action="/jobs/${job.id}/cancel" class="cancel" ${active ? "" : "hidden"}>${csrfField(forms.csrf)}<input type="hidden" name="back" value="${forms.back}">
    <button type="submit" class="quiet danger-text ask">Cancel<span class="visually-hidden"> ${name}</span></button>
    <span class="confirm" role="group" aria-label="Cancel ${name}?" hidden>Cancel it?
      <button type="submit" class="quiet danger-text yes">Yes</button>
      <button type="button" class="quiet no">No</button>
    </span>
    <span class="cancel-error" role="alert"></span>
  </form>`;
}


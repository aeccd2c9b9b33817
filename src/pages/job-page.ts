// The job's progress page as the server renders it: the current snapshot and the first
// log lines, complete without JavaScript. src/client/job.ts adopts this markup and keeps
// it live through the client SDK (a WebSocket), resuming after `data-since`. All job output is escaped by `html`.
import { html } from "hono/html";
import type { EventPage, JobEvent, JobSnapshot, JobUrls, StepSummary } from "../protocol";
import { isTerminal, percentDone } from "../lib/job-state";
import { duration, elapsedMs, errorText, gapText, watching, listedSteps, number, offset, pretty, progressText, stateLabel, stepDetail, stepsText } from "./format";
import { csrfField, page, type Html } from "./layout";

type LogEvent = Extract<JobEvent, { type: "log" }>;

/** While a job runs, a browser without JavaScript reloads the page to follow it. */
const NO_SCRIPT_REFRESH_S = 3;

/** What the viewer may do: a shared link watches; the owner or the control token's holder may cancel. */
export interface Viewer {
  canControl: boolean;
  /** A dashboard session's CSRF token, which its forms must carry. */
  csrf?: string;
  /** Without JavaScript, whether the page reloads itself while the job runs (`?reload=off` stops it). */
  reloads?: boolean;
}

export function jobPage(snapshot: JobSnapshot, urls: JobUrls, events: EventPage, viewer: Viewer, now = Date.now()): Html {
  const finished = isTerminal(snapshot.state);
  const logs = events.events.filter((e): e is LogEvent => e.type === "log");
  const reloads = !finished && viewer.reloads !== false;
  const head = reloads ? html`<noscript><meta http-equiv="refresh" content="${NO_SCRIPT_REFRESH_S}"></noscript>` : undefined;
  return page(
    { title: `${snapshot.type} job`, script: "job", head },
    html`<article class="job" id="job" data-now="${now}" data-since="${events.nextSince}" data-snapshot="${JSON.stringify(snapshot)}">
<div class="job-head">
  <h1><span id="job-type">${snapshot.type}</span> job</h1>
  <span id="job-state" class="badge state-${snapshot.state}" aria-live="polite" tabindex="-1">${stateLabel(snapshot.state)}</span>
  <p id="live-status" class="live-status" role="status" aria-live="polite"></p>
  <p id="job-news" class="visually-hidden" role="status" aria-live="polite"></p>
  <p id="copy-news" class="visually-hidden" role="status" aria-live="polite"></p>
</div>
${finished ? "" : reloading(reloads, urls.page)}
<dl class="meta">
  <div><dt>Id</dt><dd><code>${snapshot.id}</code></dd></div>
  <div><dt>Created</dt><dd><time id="created" datetime="${new Date(snapshot.createdAt).toISOString()}">${new Date(snapshot.createdAt).toUTCString()}</time></dd></div>
  <div><dt>Elapsed</dt><dd id="elapsed">${duration(elapsedMs(snapshot, now))}</dd></div>
  <div><dt>Retries</dt><dd id="retries">${number(snapshot.steps.retries)}</dd></div>
  <div><dt>Viewers</dt><dd id="viewers">${watching(snapshot)}</dd></div>
</dl>
<section class="progress" aria-labelledby="progress-heading">
  <h2 id="progress-heading">Progress</h2>
  ${progressBar(snapshot)}
  <p id="progress-text" class="progress-text">${progressText(snapshot, now)}</p>
</section>
${outcome(snapshot)}
<div class="actions">
  ${viewer.canControl ? cancelForm(urls.cancel, finished, viewer.csrf) : ""}
  <button type="button" id="copy-link" data-copy="${urls.page}" data-copied="Link copied" hidden>Copy link</button>
</div>
<div class="columns">
  <section aria-labelledby="steps-heading">
    <h2 id="steps-heading">Steps</h2>
    <p id="steps-summary" class="steps-summary">${stepsText(snapshot.steps)}</p>
    <ol id="steps" class="steps" aria-labelledby="steps-heading" tabindex="0">${listedSteps(snapshot.steps).map((row) => ("gap" in row ? gapItem(row.gap) : stepItem(row, now)))}</ol>
    <p class="hint"><a href="${urls.self}/steps">Every step (JSON)</a></p>
  </section>
  <section aria-labelledby="log-heading">
    <h2 id="log-heading">Log</h2>
    <div class="log-box"><ol id="log" class="log" role="log" aria-live="off" aria-labelledby="log-heading" tabindex="0" ${logs.length ? "" : "hidden"}>${logs.map((e) => logItem(e, snapshot.createdAt))}</ol></div>
    <p id="no-log" class="empty" ${logs.length ? "hidden" : ""}>${finished ? "This job logged nothing." : "No log lines yet."}</p>
    ${events.nextSince < events.lastSeq ? html`<noscript><p>More lines: <a href="${urls.stream}">the full log as text</a>.</p></noscript>` : ""}
    <button type="button" id="jump-to-end" class="jump" hidden>Newer lines below ↓</button>
  </section>
</div>
<section aria-labelledby="terminal-heading">
  <h2 id="terminal-heading">Follow it in a terminal</h2>
  <div class="copyable"><pre><code id="curl-command">curl -N ${urls.stream}</code></pre>
  <button type="button" id="copy-curl" data-copy="curl -N ${urls.stream}" data-copied="Command copied" hidden>Copy command</button></div>
</section>
<details class="input">
  <summary>Input</summary>
  <pre>${pretty(snapshot.input)}</pre>
</details>
</article>`,
  );
}

/**
 * Without JavaScript the page follows the job by reloading itself, which sends the keyboard
 * and a screen reader back to the top each time (WCAG 2.2.1): the reader may stop it, and
 * reload by hand.
 */
function reloading(reloads: boolean, page: string): Html {
  return html`<noscript><p id="reloading" class="notice">${reloads
    ? html`This page reloads itself every ${NO_SCRIPT_REFRESH_S} s while the job runs. <a href="${page}?reload=off">Stop reloading</a>`
    : html`This page no longer reloads itself: <a href="${page}?reload=off">reload it</a> to see how the job is doing, or <a href="${page}">reload it every ${NO_SCRIPT_REFRESH_S} s</a>.`}</p></noscript>`;
}

/**
 * Cancel, for whoever controls the job. Without JavaScript one click posts it; with it,
 * src/client/ask-first.ts shows the hidden question first and only "Yes" cancels (with
 * fetch, src/client/cancel.ts), and #cancel-error says why it failed.
 */
function cancelForm(action: string, finished: boolean, csrf?: string): Html {
  return html`<form id="cancel-form" method="post" action="${action}" ${finished ? "hidden" : ""}>${csrfField(csrf)}
    <button type="submit" id="cancel-ask" class="danger ask">Cancel job</button>
    <span id="cancel-confirm" class="confirm" role="group" aria-labelledby="cancel-question" hidden>
      <span id="cancel-question">Cancel this job?</span>
      <button type="submit" id="cancel-yes" class="danger yes">Yes, cancel it</button>
      <button type="button" id="cancel-keep" class="no">Keep it running</button>
    </span>
    <span id="cancel-error" class="cancel-error" role="alert"></span>
  </form>`;
}

function progressBar(snapshot: JobSnapshot): Html {
  const percent = percentDone(snapshot.progress, snapshot.state);
  // Without a value, <progress> is indeterminate: right for a running job with no progress yet.
  return percent === null && !isTerminal(snapshot.state)
    ? html`<progress id="progress-bar" max="100" aria-labelledby="progress-heading"></progress>`
    : html`<progress id="progress-bar" max="100" value="${percent ?? 0}" aria-labelledby="progress-heading">${percent ?? 0} %</progress>`;
}

function outcome(snapshot: JobSnapshot): Html {
  const error = snapshot.error;
  return html`<section id="result-box" class="outcome result" aria-labelledby="result-heading" ${snapshot.state === "succeeded" ? "" : "hidden"}>
  <h2 id="result-heading">Result</h2>
  <pre id="result">${snapshot.state === "succeeded" ? pretty(snapshot.result) : ""}</pre>
</section>
<section id="error-box" class="outcome ${snapshot.state === "canceled" ? "canceled" : "error"}" aria-labelledby="error-heading" ${error ? "" : "hidden"}>
  <h2 id="error-heading">${snapshot.state === "canceled" ? "Canceled" : "Error"}</h2>
  <p id="error-message">${error ? errorText(error) : ""}</p>
</section>`;
}

function stepItem(step: StepSummary, now: number): Html {
  return html`<li class="step step-${step.state}" data-step="${step.position}"><span class="step-name">${step.name}</span> <span class="step-detail">${stepDetail(step, now)}</span></li>`;
}

function gapItem(count: number): Html {
  return html`<li class="step step-gap">${gapText(count)}</li>`;
}

function logItem(event: LogEvent, createdAt: number): Html {
  return html`<li class="log-line level-${event.data.level}" data-seq="${event.seq}"><span class="log-time">${offset(event.at, createdAt)}</span> <span class="log-level">${event.data.level}</span> <span class="log-message">${event.data.message}</span></li>`;
}

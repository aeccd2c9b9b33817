// The start page: a plain form that posts to POST /jobs (303 to the job's page), usable
// without JavaScript. src/client/home.ts adds fields generated from each type's JSON
// Schema (carried in data- attributes), inline validation and the list of your jobs.
import { html } from "hono/html";
import type { ApiError, JobTypeInfo } from "../protocol";
import { codeSpans, pretty, timeoutHint, type TimeoutRange } from "./format";
import { csrfField, page, type Html } from "./layout";

/** A type the visitor may start: what /job-types says, and what the visitor's budget allows of its input (field hints by property) and timeout. */
export interface StartType extends JobTypeInfo {
  inputHints: Record<string, string>;
  timeout: TimeoutRange;
}

export interface StartForm {
  type: string;
  /** The input as JSON text, as typed. */
  input: string;
  timeoutMs: string;
}

/** The form as first shown: the chosen type (`/?type=`) or the first, with its example. */
export function startForm(types: JobTypeInfo[], type?: string): StartForm {
  const chosen = types.find((t) => t.type === type) ?? types[0];
  return { type: chosen?.type ?? "", input: pretty(chosen?.example ?? {}), timeoutMs: "" };
}

export function homePage(types: StartType[], form: StartForm, error?: ApiError["error"], csrf?: string): Html {
  const chosen = types.find((t) => t.type === form.type);
  return page(
    { title: error ? "The job was not started" : "Start a job", script: "home" },
    html`<h1>Start a job</h1>
${error ? errorSummary(error) : ""}
<form id="start-form" class="start" method="post" action="/jobs">${csrfField(csrf)}
  <div class="field">
    <label for="type">Job type</label>
    <select id="type" name="type" aria-describedby="type-description">
      ${types.map((t) => html`<option value="${t.type}" data-description="${t.description}" data-schema="${JSON.stringify(t.inputSchema)}" data-hints="${JSON.stringify(t.inputHints)}" data-timeout="${JSON.stringify(t.timeout)}" data-example="${pretty(t.example)}" ${t.type === form.type ? "selected" : ""}>${t.type}</option>`)}
    </select>
    <p id="type-description" class="hint">${describe(chosen?.description ?? "")}</p>
    <noscript><p class="hint">Without JavaScript, another type picked here keeps this one's description and input: pick it from <a href="#types-heading">the job types below</a> instead, which brings its example.</p></noscript>
  </div>
  <fieldset id="fields" class="fields" hidden><legend>Input fields</legend>
    <p id="fields-off" class="hint" hidden>These fields are off while the JSON box below is not a JSON object: they would replace what is typed there. Fix it, or empty it.</p>
    <div id="field-list"></div>
  </fieldset>
  <div class="field">
    <label for="input">Input (JSON)</label>
    <textarea id="input" name="input" rows="6" spellcheck="false" autocapitalize="off" aria-describedby="input-hint input-error" ${inputIssue(error) ? invalid : ""}>${form.input}</textarea>
    <p id="input-hint" class="hint">The job's input as a JSON object; each type's example is listed below.</p>
    <p id="input-error" class="field-error" ${inputIssue(error) ? "" : "hidden"}>${inputIssue(error) ?? ""}</p>
  </div>
  <div class="field">
    <label for="timeoutMs">Timeout in milliseconds <span class="optional">(optional)</span></label>
    <input id="timeoutMs" name="timeoutMs" type="number" inputmode="numeric" min="1" max="${chosen?.timeout.maxMs ?? ""}" step="1" value="${form.timeoutMs}" aria-describedby="timeout-hint timeoutMs-error" ${timeoutIssue(error) ? invalid : ""}>
    <p id="timeout-hint" class="hint">The job fails with a timeout after this long${chosen ? timeoutHint(chosen.timeout) : ""}.</p>
    <p id="timeoutMs-error" class="field-error" ${timeoutIssue(error) ? "" : "hidden"}>${timeoutIssue(error) ?? ""}</p>
  </div>
  <button type="submit" id="start">Start job</button>
</form>
<section id="my-jobs" class="my-jobs" aria-labelledby="my-jobs-heading" hidden>
  <div class="section-head"><h2 id="my-jobs-heading">Started from this browser</h2><button type="button" id="clear-jobs" class="quiet">Clear list</button></div>
  <p class="hint">Owners see all their jobs on <a href="/dashboard">their dashboard</a>.</p>
  <ul id="my-jobs-list" class="job-list"></ul>
</section>
<section aria-labelledby="types-heading">
  <h2 id="types-heading">Job types</h2>
  <p class="hint">Pick one to use it in the form above.</p>
  <dl id="types" class="types">${types.map((t) => html`<div><dt><a href="/?type=${encodeURIComponent(t.type)}" data-type="${t.type}">${t.type}</a></dt><dd>${describe(t.description)}<pre>${JSON.stringify(t.example)}</pre></dd></div>`)}</dl>
</section>`,
  );
}

/** Issues about the input JSON as a whole go under the textarea; the summary lists them all. */
function inputIssue(error: ApiError["error"] | undefined): string | undefined {
  return error?.code === "invalid_json" ? error.message : undefined;
}

/** Markup, not text: a plain string here would come out escaped (aria-invalid=&quot;true&quot;). */
const invalid = html`aria-invalid="true"`;

function timeoutIssue(error: ApiError["error"] | undefined): string | undefined {
  return error?.issues?.find((issue) => issue.path === "timeoutMs")?.message;
}

/** Refusals the API words for its clients ("the request body"), said for a person at the form; the issues follow. */
const FORM_MESSAGES: Record<string, string> = {
  invalid_request: "Some of the values are not right:",
  unknown_type: "That job type is not one you may start here; pick one from the list.",
};

function errorSummary(error: ApiError["error"]): Html {
  return html`<div id="form-errors" class="error-summary" role="alert" tabindex="-1">
  <h2>The job was not started</h2>
  <p>${FORM_MESSAGES[error.code] ?? error.message}</p>
  ${error.issues?.length ? html`<ul>${error.issues.map((issue) => html`<li>${issue.path ? html`<code>${issue.path}</code>: ` : ""}${issue.message}</li>`)}</ul>` : ""}
</div>`;
}

function describe(description: string): Html[] {
  return codeSpans(description).map((part) => (part.code ? html`<code>${part.text}</code>` : html`${part.text}`));
}

// Cancel in the page, on the job page and in the dashboard's rows: the form asks first
// (ask-first.ts), then "Yes" posts it with fetch as the API's call, so the page keeps its
// place (and the keyboard its focus) instead of reloading, and the form's `.cancel-error`
// (role=alert) says why it failed. Without JavaScript the same forms post themselves.
import type { ApiError, JobSnapshot } from "../protocol";
import { askFirst } from "./ask-first";
import { setText } from "./dom";

/**
 * `canceled` shows the job the cancel answered with. Then, if the form has hidden (the
 * job ended) or left the page, the focus goes to `afterEnd()`; else back to the form's Cancel.
 */
export function cancelInPage(form: HTMLFormElement, canceled: (job: JobSnapshot) => void, afterEnd: () => HTMLElement | null): void {
  const yes = form.querySelector<HTMLButtonElement>(".yes")!;
  const no = form.querySelector<HTMLButtonElement>(".no")!;
  const error = form.querySelector<HTMLElement>(".cancel-error")!;
  const asking = askFirst(form, async () => {
    // Emptied first, so the same failure twice is announced twice.
    setText(error, "");
    yes.disabled = no.disabled = true;
    const outcome = await postCancel(form);
    if (outcome.job) canceled(outcome.job);
    setText(error, outcome.error);
    yes.disabled = no.disabled = false;
    // Hidden (the job ended), or gone with its row: the keyboard goes on elsewhere.
    if (form.hidden || !form.isConnected) afterEnd()?.focus();
    else asking(false);
  });
}

/** The canceled job, or none (and why it failed, or "" if it did not). */
async function postCancel(form: HTMLFormElement): Promise<{ job: JobSnapshot | null; error: string }> {
  // A dashboard session's requests carry its CSRF token (the form's hidden field).
  const csrf = form.querySelector<HTMLInputElement>('input[name="csrf"]')?.value;
  const headers: Record<string, string> = { Accept: "application/json", ...(csrf ? { "X-CSRF-Token": csrf } : {}) };
  const response = await fetch(form.action, { method: "POST", headers, credentials: "same-origin" }).catch(() => null);
  if (!response) return { job: null, error: "Could not reach the server; try again" };
  if (response.ok) return { job: (await response.json()) as JobSnapshot, error: "" };
  // 409: it ended meanwhile, and the live view brings that news anyway.
  if (response.status === 409) return { job: null, error: "" };
  // Refused: said for a person, not in the API's words (which name headers). A dashboard
  // row carries the session's CSRF token: there, a 401 means the session has ended, and a
  // 403 a page older than the session (signed in again in another tab).
  if (response.status === 401 || response.status === 403) {
    const why = !csrf ? "Only the job's owner, or the browser that started it, may cancel it"
      : response.status === 401 ? "Not signed in any more: reload to sign in again" : "This page is older than your session: reload it and try again";
    return { job: null, error: why };
  }
  // The API says why in { error: { code, message } }; a proxy's own error page does not.
  const body = (await response.json().catch(() => null)) as Partial<ApiError> | null;
  const message = body?.error?.message;
  return { job: null, error: typeof message === "string" && message ? message : `Could not cancel: the server answered ${response.status}; try again` };
}

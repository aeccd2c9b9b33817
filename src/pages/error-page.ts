// An error as a page, for browsers: the same message the JSON error carries.
import { html } from "hono/html";
import { page, type Html } from "./layout";

const TITLES: Record<number, string> = {
  401: "Credentials needed", 403: "Not allowed", 404: "Not found", 410: "Gone", 413: "Too large",
  429: "Too many requests", 503: "Unavailable",
};

export function errorPage(status: number, message: string): Html {
  const title = TITLES[status] ?? "Request refused";
  return page(
    { title },
    html`<h1>${title}</h1>
<p class="lead">${message}</p>
<p><a href="/">Start a new job</a></p>`,
  );
}

// An error as a page, for browsers: the same message the JSON error carries.
import { html } from "hono/html";
import { page, type Html } from "./layout";

export function errorPage(status: number, message: string): Html {
  const title = status === 404 ? "Not found" : "Request refused";
  return page(
    { title },
    html`<h1>${title}</h1>
<p class="lead">${message}</p>
<p><a href="/">Start a new job</a></p>`,
  );
}

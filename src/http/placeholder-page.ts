// A server-rendered job page: the snapshot as plain HTML until the live page exists.
import { html } from "hono/html";
import type { JobSnapshot, JobUrls } from "../protocol";

export function jobPage(snapshot: JobSnapshot, urls: JobUrls) {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Job ${snapshot.id}</title></head>
<body>
<h1>${snapshot.type} job: ${snapshot.state}</h1>
<p>Follow it in a terminal: <code>curl -N ${urls.stream}</code></p>
<pre>${JSON.stringify(snapshot, null, 2)}</pre>
</body>
</html>`;
}

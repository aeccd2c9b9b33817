// The HTML shell of every page. Styles and scripts are the Worker's own static assets
// (built from src/client by `[build]`); the Content-Security-Policy allows nothing else.
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface PageOptions {
  title: string;
  /** Entry under /assets/, without ".js"; none for pages that need no script. */
  script?: "home" | "job" | "dashboard";
  /** Extra tags in <head>. */
  head?: Html;
}

export function page(options: PageOptions, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${options.title} · Live jobs</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
${options.script ? html`<script type="module" src="/assets/${options.script}.js"></script>` : ""}
${options.head ?? ""}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><a href="/" class="brand">Live jobs</a><span class="tagline">background jobs on Durable Objects</span><nav class="site-nav"><a href="/">Start a job</a> <a href="/dashboard">Your jobs</a></nav></header>
<main id="main">
${body}
</main>
</body>
</html>`;
}

/** The hidden field a dashboard session's forms carry (none without a session). */
export function csrfField(csrf: string | undefined): Html | string {
  return csrf ? html`<input type="hidden" name="csrf" value="${csrf}">` : "";
}

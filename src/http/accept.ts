// What a request asks for by its Accept header, with its q-values (Hono's `accepts`): a
// browser's navigation gets a page, EventSource an event stream, and everyone else JSON,
// `*/*` included. A bare "contains text/html" gave a page to `text/html;q=0.9,
// application/json` and to `text/html;q=0`.
import type { Context } from "hono";
import { accepts } from "hono/accepts";

function prefers(c: Context, type: "text/html" | "text/event-stream"): boolean {
  return accepts(c, { header: "Accept", supports: ["application/json", type], default: "application/json" }) === type;
}

export function wantsHtml(c: Context): boolean {
  return prefers(c, "text/html");
}

export function wantsEventStream(c: Context): boolean {
  return prefers(c, "text/event-stream");
}

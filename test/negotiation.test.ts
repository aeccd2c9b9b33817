// What an answer is made of follows the Accept header's preference, q-values included: a
// browser's navigation gets a page, EventSource an event stream, everyone else JSON.
import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import { BASE, createJob, runToEnd, useVirtualClock } from "./helpers";

useVirtualClock();

const BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

async function typeOf(path: string, accept: string | null): Promise<string> {
  const response = await SELF.fetch(`${BASE}${path}`, { headers: accept === null ? {} : { Accept: accept } });
  await response.body?.cancel();
  return (response.headers.get("Content-Type") ?? "").split(";")[0]!;
}

it("answers a job's link with a page, JSON or an event stream, as the Accept header prefers", async () => {
  const id = await createJob("demo", { intervalMs: 0 });
  await runToEnd(id);
  expect(await typeOf(`/jobs/${id}`, BROWSER)).toBe("text/html");
  expect(await typeOf(`/jobs/${id}`, "text/html")).toBe("text/html");
  expect(await typeOf(`/jobs/${id}`, "*/*")).toBe("application/json");
  expect(await typeOf(`/jobs/${id}`, null)).toBe("application/json");
  // A client that takes a page too, but prefers JSON, or refuses pages (q=0), gets JSON.
  expect(await typeOf(`/jobs/${id}`, "text/html;q=0.9, application/json")).toBe("application/json");
  expect(await typeOf(`/jobs/${id}`, "text/html;q=0")).toBe("application/json");
  expect(await typeOf(`/jobs/${id}/events`, "text/event-stream")).toBe("text/event-stream");
  expect(await typeOf(`/jobs/${id}/events`, "text/event-stream;q=0.5, application/json")).toBe("application/json");
  // Errors too: a page for a browser, JSON for a client that prefers it.
  expect(await typeOf("/jobs/nope", BROWSER)).toBe("text/html");
  expect(await typeOf("/jobs/nope", "text/html;q=0.1, application/json")).toBe("application/json");
});

// Completion webhooks against a real receiver on 127.0.0.1: it fails the first delivery,
// then takes the retry; every attempt is an event in the job's log; the signature checks
// out as the Standard Webhooks specification says, and the id stays the same.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { expect, inject, it } from "vitest";
import type { CreatedJob, EventPage, JobSnapshot } from "../../src/protocol";
import { E2E_TOKEN, WEBHOOK_SECRET } from "./wrangler-dev";

const baseUrl = inject("baseUrl");
const port = inject("webhookPort");

/** A receiver's check, as the README shows it. */
function verify(headers: IncomingHttpHeaders, body: string): boolean {
  const key = Buffer.from(WEBHOOK_SECRET.slice("whsec_".length), "base64");
  const signed = `${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`;
  const expected = Buffer.from(createHmac("sha256", key).update(signed).digest("base64"));
  const fresh = Math.abs(Date.now() / 1000 - Number(headers["webhook-timestamp"])) < 300;
  return fresh && String(headers["webhook-signature"]).split(" ").some((signature) => {
    const given = Buffer.from(signature.replace(/^v1,/, ""));
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

it("delivers a signed completion webhook, retrying after a failure, each attempt an event", { timeout: 60_000 }, async () => {
  const all: { headers: IncomingHttpHeaders; body: string; verified: boolean }[] = [];
  // Other files' jobs may send theirs here meanwhile (browser-job-page.test.ts): each job's first delivery fails.
  const receiver = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      all.push({ headers: request.headers, body, verified: verify(request.headers, body) });
      const first = all.filter((r) => r.headers["webhook-id"] === request.headers["webhook-id"]).length === 1;
      response.writeHead(first ? 503 : 204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(port, "127.0.0.1", resolve));
  try {
    const response = await fetch(`${baseUrl}/jobs`, {
      method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${E2E_TOKEN}` },
      body: JSON.stringify({ type: "echo", input: { lines: ["hello"], delayMs: 0 }, webhook: { url: `http://127.0.0.1:${port}/hooks/jobs` } }),
    });
    expect(response.status).toBe(201);
    const job = (await response.json()) as CreatedJob;
    await expect.poll(async () => ((await (await fetch(job.urls.self)).json()) as JobSnapshot).webhook?.state, { timeout: 30_000, interval: 250 }).toBe("delivered");
    const received = all.filter((r) => r.headers["webhook-id"] === `msg_${job.id}`);

    expect(received).toHaveLength(2);
    expect(received.every((r) => r.verified)).toBe(true);
    expect(new Set(received.map((r) => r.headers["webhook-id"]))).toEqual(new Set([`msg_${job.id}`]));
    expect(JSON.parse(received[1]!.body)).toMatchObject({ type: "job.succeeded", data: { id: job.id, type: "echo", state: "succeeded", result: { lines: ["hello"] } } });
    const page = (await (await fetch(`${job.urls.events}?limit=1000`)).json()) as EventPage;
    const attempts = page.events.flatMap((e) => (e.type === "webhook" ? [e.data] : []));
    expect(attempts).toEqual([
      expect.objectContaining({ attempt: 1, outcome: "retrying", httpStatus: 503 }),
      { attempt: 2, outcome: "delivered", httpStatus: 204 },
    ]);
    // A forged body does not verify.
    expect(verify(received[1]!.headers, received[1]!.body.replace("hello", "HELLO"))).toBe(false);
  } finally {
    await new Promise((resolve) => receiver.close(resolve));
  }
});

it("refuses a webhook to an origin the deployment does not list", async () => {
  const response = await fetch(`${baseUrl}/jobs`, {
    method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${E2E_TOKEN}` },
    body: JSON.stringify({ type: "demo", webhook: { url: "http://169.254.169.254/latest/meta-data" } }),
  });
  expect(response.status).toBe(400);
  expect(await response.json()).toMatchObject({ error: { code: "webhook_not_allowed" } });
});

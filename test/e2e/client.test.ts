// The typed client against `wrangler dev`, in Node: create, read, list, cancel; and
// follow a job across a restart of the server, over WebSocket and over SSE, receiving
// every event exactly once and in order.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, inject, it } from "vitest";
import type { JOB_TYPES } from "../../app/jobs";
import type { JobTypesOf } from "../../src/authoring";
import type { JobEvent } from "../../src/protocol";
import { ApiRequestError, createClient, JobFailedError } from "../../src/sdk/client";
import { E2E_TOKEN, freePort, startWranglerDev, type DevServer } from "./wrangler-dev";

const baseUrl = inject("baseUrl");
type Types = JobTypesOf<typeof JOB_TYPES>;

/** This file's own `wrangler dev`, which each test below restarts (same port, same storage): started once, not once a test. */
let own: { port: number; persistTo: string; server?: DevServer } | undefined;
async function ownServer(): Promise<DevServer> {
  own ??= { port: await freePort(), persistTo: mkdtempSync(join(tmpdir(), "live-jobs-client-")) };
  own.server ??= await startWranglerDev({ port: own.port, persistTo: own.persistTo });
  return own.server;
}
async function restart(): Promise<DevServer> {
  await own!.server!.stop();
  own!.server = undefined;
  return ownServer();
}
afterAll(async () => {
  await own?.server?.stop();
});

it("creates, reads, lists, cancels, and gives a job's typed result", async () => {
  const jobs = createClient<Types>({ baseUrl, token: E2E_TOKEN });
  const primes = await jobs.create("primes", { n: 100_000, segment: 10_000 }, { tags: ["client"] });
  const result = await jobs.result(primes);
  expect(result).toEqual({ n: 100_000, primes: 9592 });
  expect((await jobs.get(primes.id)).state).toBe("succeeded");
  expect((await jobs.list({ tag: "client" })).jobs.map((j) => j.id)).toContain(primes.id);
  const sleeper = await jobs.create("sleepy", { duration: "1 minute" });
  expect((await jobs.cancel(sleeper.id)).state).toBe("canceled");
  await expect(jobs.result(sleeper)).rejects.toBeInstanceOf(JobFailedError);
  await expect(jobs.create("demo", { intervalMs: -1 })).rejects.toMatchObject({ status: 400, code: "invalid_input" });
  await jobs.delete(sleeper.id);
  await expect(jobs.get(sleeper.id)).rejects.toBeInstanceOf(ApiRequestError);
});

for (const transport of ["WebSocket", "SSE"] as const) {
  it(`follows a job across a server restart over ${transport}, every event exactly once`, { timeout: 120_000 }, async () => {
    const server = await ownServer();
    const jobs = createClient<Types>({ baseUrl: server.url, token: E2E_TOKEN, backoff: { initialMs: 200, maxMs: 1_000 }, ...(transport === "SSE" ? { WebSocket: null } : {}) });
    const lines = Array.from({ length: 8 }, (_, i) => `line ${i + 1}`);
    const job = await jobs.create("echo", { lines, delayMs: 700 });
    const statuses: string[] = [];
    const received: JobEvent[] = [];
    const following = (async () => {
      for await (const event of jobs.follow(job.id, { onStatus: (status) => statuses.push(status) })) received.push(event);
    })();
    await expect.poll(() => received.filter((e) => e.type === "log").length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    await restart();
    await following;
    const all = (await jobs.events(job.id, 0, 1000)).events;
    expect(received).toEqual(all);
    expect(received.at(-1)).toMatchObject({ type: "result", data: { result: { lines } } });
    expect(statuses).toContain("reconnecting");
  });
}

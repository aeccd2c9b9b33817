// A deploy that changes INDEX_SHARDS while an owner's jobs run: each job stays in the
// shard of the owner's index that admitted it, so the owner's list shows it once, in the
// state it ends in, and no job it ran is left counted as active.
import { env, evictDurableObject } from "cloudflare:test";
import { afterEach, expect, it } from "vitest";
import { JOB_TYPES } from "../app/jobs";
import type { Env } from "../src/env";
import { createApp } from "../src/http/app";
import { JobRegistry } from "../src/jobs/registry";
import type { CreatedJob, JobList } from "../src/protocol";
import { shardOf } from "../src/owners/shards";
import { redeployed } from "./fixtures/jobs";
import { auth, BASE, postJson, runToEnd, stubOf, UPGRADE, useVirtualClock } from "./helpers";
import { TEST_SECRETS } from "./secrets";

useVirtualClock();
afterEach(() => {
  redeployed.vars = {};
});

const app = createApp({ types: new JobRegistry(JOB_TYPES) });

async function freshOwnerToken(): Promise<string> {
  const { sign } = await import("hono/jwt");
  return sign({ sub: `owner-${crypto.randomUUID().slice(0, 8)}`, exp: Math.floor(Date.now() / 1000) + 3600 }, TEST_SECRETS.JWT_SECRET, "HS256");
}

async function listUnder(shards: string, token: string): Promise<JobList> {
  const response = await app.request(`${BASE}/jobs?limit=100`, { headers: auth(token) }, { ...env, ...TEST_SECRETS, INDEX_SHARDS: shards } as Env);
  expect(response.status).toBe(200);
  return response.json<JobList>();
}

it("lists a job once, in its final state, after a deploy raised INDEX_SHARDS while it waited", async () => {
  const token = await freshOwnerToken();
  // Made under one shard (wrangler.toml's INDEX_SHARDS); at least one would move under four.
  const ids: string[] = [];
  while (!ids.some((id) => shardOf(id, 4) !== 0)) {
    const response = await postJson("/jobs", { type: "sleepy", input: { duration: "1 minute" } }, {}, token);
    expect(response.status).toBe(201);
    ids.push((await response.json<CreatedJob>()).id);
  }
  expect((await listUnder("1", token)).jobs).toHaveLength(ids.length);

  // The deploy: every object starts again with the new var, and so does the Worker.
  redeployed.vars = { INDEX_SHARDS: "4" };
  for (const id of ids) await evictDurableObject(stubOf(id));
  for (const id of ids) expect((await runToEnd(id)).state).toBe("succeeded");

  const { jobs, counts } = await listUnder("4", token);
  expect(jobs.map((job) => job.id).sort()).toEqual([...ids].sort());
  expect(jobs.every((job) => job.state === "succeeded")).toBe(true);
  expect(counts).toMatchObject({ queued: 0, running: 0, waiting: 0, succeeded: ids.length });
});

it("resumes a feed from a position taken before a deploy raised INDEX_SHARDS: the new shards from their start (a 400 ended every open dashboard's feed for good)", async () => {
  const token = await freshOwnerToken();
  const before = await postJson("/jobs", { type: "sleepy", input: { duration: "1 minute" } }, {}, token);
  expect(before.status).toBe(201);
  const { feed } = await listUnder("1", token);
  expect(feed.split(".")).toHaveLength(1);
  const deployment = { ...env, ...TEST_SECRETS, INDEX_SHARDS: "4" } as Env;
  const resumes: { query: string; headers: Record<string, string> }[] = [{ query: `?since=${feed}`, headers: {} }, { query: "", headers: { "Last-Event-ID": feed } }];
  for (const resume of resumes) {
    const response = await app.request(`${BASE}/feed/sse${resume.query}`, { headers: { ...auth(token), ...resume.headers } }, deployment);
    expect(response.status).toBe(200);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while ((text.match(/"type":"snapshot"/g) ?? []).length < 4) text += (await reader.read()).value ?? "";
    expect(text).toContain('"source":"feed-3"');
    await reader.cancel();
  }
  // A position for more shards than there are is still refused: INDEX_SHARDS is never lowered.
  const more = await app.request(`${BASE}/feed/sse?since=${feed}.0.0.0.0`, { headers: auth(token) }, deployment);
  expect(more.status).toBe(400);
  // The WebSocket resumes so too.
  const socket = await app.request(`${BASE}/feed/ws?since=${feed}`, { headers: { ...UPGRADE, ...auth(token) } }, deployment);
  expect(socket.status).toBe(101);
  socket.webSocket!.accept();
  socket.webSocket!.close(1000, "bye");
});

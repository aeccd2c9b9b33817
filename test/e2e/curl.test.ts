// What a terminal user sees: real `curl -N` output of the text and SSE streams from
// `wrangler dev`, arriving line by line while the job runs.
import { spawn } from "node:child_process";
import { expect, inject, it } from "vitest";

const baseUrl = inject("baseUrl");

interface TimedLine {
  at: number;
  line: string;
}

function curl(args: string[]): Promise<TimedLine[]> {
  return new Promise((resolve, reject) => {
    const child = spawn("curl", ["-sS", "-N", "--max-time", "30", ...args]);
    const lines: TimedLine[] = [];
    let partial = "";
    child.stdout.on("data", (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split("\n");
      partial = parts.pop()!;
      for (const line of parts) lines.push({ at: Date.now(), line });
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(lines) : reject(new Error(`curl exited ${code}`))));
  });
}

it("curl -N on the text stream prints each line as it happens and ends with the outcome", async () => {
  const lines = await curl(["-X", "POST", `${baseUrl}/jobs?follow`, "-H", "Content-Type: application/json", "-d", '{"type":"demo","input":{"intervalMs":700}}']);
  const messages = lines.filter((l) => / info: /.test(l.line));
  expect(messages.map((l) => l.line.replace(/^\S+ /, ""))).toEqual([
    "   -  message-1  info: Did something",
    " 33%  message-2  info: Did something else",
    " 66%  message-3  info: All done",
  ]);
  // Streamed, not buffered: the messages reached curl about 700 ms apart.
  expect(messages[1]!.at - messages[0]!.at).toBeGreaterThan(400);
  expect(messages[2]!.at - messages[1]!.at).toBeGreaterThan(400);
  expect(lines.at(-1)?.line).toMatch(/100%  message-3  succeeded: \{"messages":3\}$/);
});

it("curl -N on the SSE stream receives snapshot, events with ids, and ends", async () => {
  const created = await (await fetch(`${baseUrl}/jobs`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"type":"flaky","input":{"failures":1,"delayMs":300}}' })).json() as { id: string; urls: { sse: string } };
  const lines = await curl(["-H", "Accept: text/event-stream", created.urls.sse]);
  const text = lines.map((l) => l.line);
  expect(text.slice(0, 2)).toEqual(["retry: 2000", "event: snapshot"]);
  const ids = text.filter((l) => l.startsWith("id: ")).map((l) => Number(l.slice(4)));
  expect(ids).toEqual(ids.map((_, i) => i + 1));
  expect(text).toContain("event: result");
  const last = JSON.parse(text.filter((l) => l.startsWith("data: ")).at(-1)!.slice(6)) as { type: string; data: unknown };
  expect(last).toMatchObject({ type: "result", data: { result: { succeededOnAttempt: 2 } } });
});

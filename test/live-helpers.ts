// Clients for the three live transports, as a test sees them through the Worker.
import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import type { JobEvent, JobSnapshot, ServerFrame } from "../src/protocol";
import { BASE, UPGRADE } from "./helpers";

export interface SocketClient {
  socket: WebSocket;
  frames: ServerFrame[];
  /** Each message as received (with `?batch`, frames a line). */
  messages: string[];
  closed: Promise<CloseEvent>;
  events(): JobEvent[];
}

/** A WebSocket subscriber; `ip` makes it a client of its own (the per-client cap is 20). */
export async function openSocket(id: string, query = "", ip?: string): Promise<SocketClient> {
  const response = await SELF.fetch(`${BASE}/jobs/${id}/ws${query}`, { headers: { ...UPGRADE, ...(ip ? { "CF-Connecting-IP": ip } : {}) } });
  expect(response.status).toBe(101);
  const socket = response.webSocket!;
  const frames: ServerFrame[] = [];
  const messages: string[] = [];
  // Answer every mark, as a client must for the server to send past its credit.
  socket.addEventListener("message", (message) => {
    if (message.data === "pong") return;
    messages.push(message.data as string);
    for (const line of (message.data as string).split("\n")) {
      const frame = JSON.parse(line) as ServerFrame;
      frames.push(frame);
      if (frame.type === "mark") socket.send(JSON.stringify({ type: "ack", token: frame.token }));
    }
  });
  const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener("close", resolve));
  socket.accept();
  return { socket, frames, messages, closed, events: () => frames.flatMap((f) => (f.type === "event" ? [f.event] : [])) };
}

export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
}

/** Parses an SSE body into messages; comments (heartbeats) are dropped. */
export function parseSse(text: string): SseMessage[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .flatMap((block) => {
      const message: SseMessage = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = line.slice(0, colon) as keyof SseMessage;
        message[field] = line.slice(colon + 1).replace(/^ /, "");
      }
      return Object.keys(message).length ? [message] : [];
    });
}

export function sseEvents(messages: SseMessage[]): JobEvent[] {
  return messages.filter((m) => m.id !== undefined).map((m) => JSON.parse(m.data!) as JobEvent);
}

export function sseSnapshot(messages: SseMessage[]): JobSnapshot {
  const first = messages.find((m) => m.event === "snapshot");
  expect(first).toBeDefined();
  return JSON.parse(first!.data!) as JobSnapshot;
}

export async function readSse(id: string, headers: Record<string, string> = {}, path = "sse"): Promise<{ response: Response; messages: SseMessage[] }> {
  const response = await SELF.fetch(`${BASE}/jobs/${id}/${path}`, { headers: { Accept: "text/event-stream", ...headers } });
  return { response, messages: parseSse(await response.text()) };
}

export async function readText(id: string, query = ""): Promise<string[]> {
  const response = await SELF.fetch(`${BASE}/jobs/${id}/stream${query}`);
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
  return (await response.text()).trimEnd().split("\n");
}

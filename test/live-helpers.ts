// Clients for the three live transports, as a test sees them through the Worker.
import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import type { JobEvent, JobSnapshot, MuxServerFrame, ServerFrame } from "../src/protocol";
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

export interface MuxClient {
  socket: WebSocket;
  /** Every frame, in order (with `?batch`, each line of a message). */
  frames: MuxServerFrame[];
  /** Each message as received, pongs aside. */
  messages: string[];
  pongs: number;
  send(frame: unknown): void;
  events(source: string): JobEvent[];
  ended(source: string): boolean;
  closed: Promise<CloseEvent>;
}

/** A client of many streams on one WebSocket (`path`: /live/ws or /feed/ws, with its query) that answers every source's marks. */
export async function openMux(path = "/live/ws", headers: Record<string, string> = {}): Promise<MuxClient> {
  const response = await SELF.fetch(BASE + path, { headers: { ...UPGRADE, ...headers } });
  expect(response.status).toBe(101);
  const socket = response.webSocket!;
  const frames: MuxServerFrame[] = [];
  const messages: string[] = [];
  let pongs = 0;
  socket.addEventListener("message", (message) => {
    if (message.data === "pong") return void pongs++;
    messages.push(message.data as string);
    for (const line of (message.data as string).split("\n")) {
      const frame = JSON.parse(line) as MuxServerFrame;
      frames.push(frame);
      if (frame.type === "mark") socket.send(JSON.stringify({ type: "ack", source: frame.source, token: frame.token }));
    }
  });
  const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener("close", resolve));
  socket.accept();
  return {
    socket, frames, messages, closed,
    get pongs() {
      return pongs;
    },
    send: (frame) => socket.send(JSON.stringify(frame)),
    events: (source) => frames.flatMap((f) => (f.type === "event" && f.source === source && "event" in f ? [f.event as JobEvent] : [])),
    ended: (source) => frames.some((f) => f.type === "end" && f.source === source),
  };
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

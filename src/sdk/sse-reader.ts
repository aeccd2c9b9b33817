// Server-Sent Events from a fetch response body, for where there is no EventSource (Node)
// or it cannot send headers (Authorization).
export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/** A stream that sent nothing, not even a heartbeat, for longer than the server ever stays silent. */
export class SilentStreamError extends Error {
  override name = "SilentStreamError";
}

/**
 * The stream's messages. One silent for `silentMs` (no message, no `: heartbeat` comment)
 * is taken for dead and ends in a SilentStreamError: a half-open connection (a laptop
 * that slept, a network that went) would otherwise wait for TCP to give up, for minutes.
 */
export async function* readSse(body: ReadableStream<Uint8Array>, silentMs: number): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await readWithin(reader, silentMs);
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message: SseMessage = { event: "message", data: "" };
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "data") data.push(value);
          else if (field === "event") message.event = value;
          else if (field === "id") message.id = value;
        }
        if (data.length) yield { ...message, data: data.join("\n") };
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function readWithin<T>(reader: ReadableStreamDefaultReader<T>, ms: number): ReturnType<ReadableStreamDefaultReader<T>["read"]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const silent = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SilentStreamError(`Nothing received for ${ms / 1000} s`)), ms);
  });
  return Promise.race([reader.read(), silent]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

// A minimal WebSocket client (RFC 6455) for receiving many small text frames cheaply.
// Node's global WebSocket spends tens of µs of CPU per message and ~2 ms per handshake;
// on a 2-core machine the client would then compete with the server it measures.
// It reads text frames and sends short text frames (acks), pongs and close frames.
import { randomBytes } from "node:crypto";
import { connect } from "node:net";

export interface RawSocketHandlers {
  /** A text frame; `socket` may already answer it (before the open promise resolves). */
  message(text: string, socket: RawSocket): void;
  /** The server's close code, or 1006 when the connection dropped without one. */
  closed(code: number): void;
}

export interface RawSocket {
  /** Sends a text frame; false once the connection is closing. */
  send(text: string): boolean;
  close(): void;
}

const OPCODE = { continuation: 0x0, text: 0x1, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** Resolves on 101 Switching Protocols; rejects on any other answer or none within `timeoutMs`. */
export function openRawWebSocket(url: string, timeoutMs: number, handlers: RawSocketHandlers): Promise<RawSocket> {
  const { hostname, port, pathname, search } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  socket.setNoDelay(true);
  let closed = false;
  const finish = (code: number) => {
    if (closed) return;
    closed = true;
    handlers.closed(code);
  };
  const send = (opcode: number, payload: Buffer) => {
    socket.write(maskedFrame(opcode, payload));
    return true;
  };
  const raw: RawSocket = {
    send: (text) => !closed && socket.writable && send(OPCODE.text, Buffer.from(text, "utf8")),
    close: () => (closed ? socket.destroy() : socket.end(maskedFrame(OPCODE.close, Buffer.from([0x03, 0xe8])))),
  };
  const parser = new FrameParser((opcode, payload) => {
    if (opcode === OPCODE.text) handlers.message(payload.toString("utf8"), raw);
    else if (opcode === OPCODE.ping) send(OPCODE.pong, payload);
    else if (opcode === OPCODE.close) {
      // Answer the close and end the connection: workerd closes its side only ~10 s later.
      socket.end(maskedFrame(OPCODE.close, payload.subarray(0, 2)));
      finish(payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
    }
  });
  const key = randomBytes(16).toString("base64");
  socket.write(
    `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => socket.destroy(new Error(`${url} did not answer within ${timeoutMs} ms`)), timeoutMs);
    let head: Buffer | null = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      if (head === null) return parser.push(chunk);
      clearTimeout(timer);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const status = head.subarray(0, head.indexOf("\r\n")).toString();
      const rest = head.subarray(end + 4);
      head = null;
      if (!status.startsWith("HTTP/1.1 101")) {
        socket.destroy();
        return reject(new Error(`${url} answered ${status}`));
      }
      resolve(raw);
      if (rest.length) parser.push(rest);
    });
    socket.on("error", (error) => {
      reject(error);
      finish(1006);
    });
    socket.on("close", () => finish(1006));
  });
}

/** Client frames must be masked; the key may as well be fixed, nothing here is secret. */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const mask = [0x12, 0x34, 0x56, 0x78];
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  // Acks, pongs and closes are short; frames up to 64 KiB take the 16-bit length.
  const length = masked.length < 126 ? [0x80 | masked.length] : [0x80 | 126, masked.length >> 8, masked.length & 0xff];
  if (masked.length > 0xffff) throw new Error("Client frames over 64 KiB are not supported");
  return Buffer.concat([Buffer.from([0x80 | opcode, ...length, ...mask]), masked]);
}

/** Reassembles unmasked server frames across TCP chunks, and fragmented messages. */
class FrameParser {
  #buffer: Buffer = Buffer.alloc(0);
  #fragments: Buffer[] = [];
  #fragmentOpcode = 0;
  readonly #onFrame: (opcode: number, payload: Buffer) => void;

  constructor(onFrame: (opcode: number, payload: Buffer) => void) {
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    for (;;) {
      const frame = this.#next();
      if (!frame) return;
      const { fin, opcode, payload } = frame;
      if (opcode >= 0x8) this.#onFrame(opcode, payload); // control frames are never fragmented
      else if (fin && opcode !== OPCODE.continuation) this.#onFrame(opcode, payload);
      else {
        if (opcode !== OPCODE.continuation) this.#fragmentOpcode = opcode;
        this.#fragments.push(payload);
        if (fin) this.#onFrame(this.#fragmentOpcode, Buffer.concat(this.#fragments.splice(0)));
      }
    }
  }

  #next(): { fin: boolean; opcode: number; payload: Buffer } | null {
    const b = this.#buffer;
    if (b.length < 2) return null;
    let length = b[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return null;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return null;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    if (b.length < offset + length) return null;
    this.#buffer = b.subarray(offset + length);
    return { fin: (b[0]! & 0x80) !== 0, opcode: b[0]! & 0x0f, payload: b.subarray(offset, offset + length) };
  }
}

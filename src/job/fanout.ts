// The job's subscribers are its hibernatable WebSockets: the object may sleep between
// events while they stay connected, and ping/pong is answered by the runtime.
import { safeClose } from "../lib/websocket";
import type { JobEvent, JobSnapshot, ServerFrame } from "../protocol";

/** The only frame clients may send; the runtime answers it without waking the object. */
export const PING = "ping";
export const PONG = "pong";
/** Larger client frames are refused (1009). */
export const MAX_CLIENT_FRAME_BYTES = 1_024;

export const CLOSE = {
  normal: 1000,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
  tryAgainLater: 1013,
} as const;

export function frame(value: ServerFrame): string {
  return JSON.stringify(value);
}

export class Fanout {
  constructor(private readonly ctx: DurableObjectState) {
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  get count(): number {
    return this.ctx.getWebSockets().length;
  }

  /**
   * Accepts a subscriber and sends it the snapshot and every event after `since`, all
   * synchronously: no event can be published in between, so the hand-off from history
   * to live events has no gap and no duplicate.
   */
  subscribe(snapshot: JobSnapshot, history: JobEvent[], ended: boolean): Response {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.send(frame({ type: "snapshot", snapshot }));
    for (const event of history) server.send(frame({ type: "event", event }));
    if (ended) server.close(CLOSE.normal, "job finished");
    return new Response(null, { status: 101, webSocket: client });
  }

  broadcast(event: JobEvent): void {
    const message = frame({ type: "event", event });
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(message);
      } catch {
        // The socket closed between getWebSockets() and send(); webSocketClose cleans up.
      }
    }
  }

  closeAll(code: number, reason: string): void {
    for (const socket of this.ctx.getWebSockets()) safeClose(socket, code, reason);
  }

  /** Anything but the auto-answered ping is a protocol violation. */
  rejectFrame(socket: WebSocket, message: string | ArrayBuffer): void {
    if (typeof message !== "string") return safeClose(socket, CLOSE.unsupportedData, "binary frames are not supported");
    if (message.length > MAX_CLIENT_FRAME_BYTES) return safeClose(socket, CLOSE.tooBig, "frame too large");
    safeClose(socket, CLOSE.policyViolation, `unexpected frame: only "${PING}" is accepted`);
  }
}

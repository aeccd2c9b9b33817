// The WebSocket handshake a client must send (RFC 6455 §4.2.1), checked before any object
// is asked. Without a valid Sec-WebSocket-Key and version 13, the runtime would turn our
// 101 into its own plain-text 426 ("The requested WebSocket version is not supported"),
// and only after the job's object had been asked for a subscriber. A request with neither
// header comes from inside the runtime (a service binding's fetch, which the runtime
// upgrades without a handshake), so it is let through; an HTTP client always sends both.
import { ApiError } from "./errors";

/** The base64 of 16 bytes: 22 characters and the padding. */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Why these request headers cannot open a WebSocket, or null when they can. */
export function upgradeRefusal(headers: Headers): ApiError | null {
  if (headers.get("Upgrade")?.toLowerCase() !== "websocket") {
    return new ApiError(426, "upgrade_required", "Connect with a WebSocket client (Upgrade: websocket)");
  }
  const version = headers.get("Sec-WebSocket-Version");
  const key = headers.get("Sec-WebSocket-Key");
  if (version === null && key === null) return null;
  if (version !== "13") {
    // RFC 6455 §4.2.2: a refused version is answered with the versions the server speaks.
    return new ApiError(400, "invalid_websocket_handshake", "Only WebSocket version 13 is supported: send Sec-WebSocket-Version: 13", undefined, { "Sec-WebSocket-Version": "13" });
  }
  if (!KEY.test(key ?? "")) {
    return new ApiError(400, "invalid_websocket_handshake", "Sec-WebSocket-Key must be the base64 of 16 random bytes, as WebSocket clients send it");
  }
  return null;
}

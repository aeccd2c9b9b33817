// A WebSocket upgrade without the handshake RFC 6455 asks for (a Sec-WebSocket-Key, the
// base64 of 16 bytes; Sec-WebSocket-Version 13) gets our JSON 400 on every WebSocket
// route, before any object is asked: the runtime would otherwise answer its own
// plain-text 426. (A request with neither header, as a service binding sends it, is let
// through: the runtime upgrades it without a handshake.)
import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import { mintJobId } from "../src/http/job-id";
import { upgradeRefusal } from "../src/http/websocket-upgrade";
import type { ApiError } from "../src/protocol";
import { auth, BASE, UPGRADE } from "./helpers";
import { TEST_SECRETS } from "./secrets";

/** Each case as a client sends it: a header given as undefined is left out. */
const BAD_HANDSHAKES: [string, Record<string, string | undefined>][] = [
  ["no key", { "Sec-WebSocket-Key": undefined }],
  ["a key of 15 bytes", { "Sec-WebSocket-Key": "MTIzNDU2Nzg5MDEyMzQ1" }],
  ["a key that is no base64", { "Sec-WebSocket-Key": "<script>not base64</script>" }],
  ["version 8", { "Sec-WebSocket-Version": "8" }],
  ["no version", { "Sec-WebSocket-Version": undefined }],
];

function handshake(change: Record<string, string | undefined>): Record<string, string> {
  const headers = { ...UPGRADE, ...change };
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

async function expectRefusal(response: Response): Promise<void> {
  expect(response.status).toBe(400);
  expect(response.webSocket).toBeNull();
  const body = await response.json<ApiError>();
  expect(body.error.code).toBe("invalid_websocket_handshake");
  expect(body.error.message).toMatch(/Sec-WebSocket-(Key|Version)/);
  expect(body.error.message).not.toContain("<script>");
}

it.each(BAD_HANDSHAKES)("refuses a job's WebSocket upgrade with %s: JSON 400, before its object is asked", async (_, change) => {
  // A genuine id with no job: had its object been asked, the answer would be 410.
  const id = await mintJobId(TEST_SECRETS.JOB_ID_SECRET);
  await expectRefusal(await SELF.fetch(`${BASE}/jobs/${id}/ws`, { headers: handshake(change) }));
  expect((await SELF.fetch(`${BASE}/jobs/${id}/ws`, { headers: UPGRADE })).status).toBe(410);
});

it.each(BAD_HANDSHAKES)("refuses /live/ws and /feed/ws upgrades with %s: JSON 400", async (_, change) => {
  for (const path of ["/live/ws", "/feed/ws"]) {
    await expectRefusal(await SELF.fetch(`${BASE}${path}`, { headers: { ...handshake(change), ...auth() } }));
  }
});

it("lets through an upgrade with neither handshake header: a Worker's fetch through a service binding sends none", async () => {
  const id = await mintJobId(TEST_SECRETS.JOB_ID_SECRET);
  expect((await SELF.fetch(`${BASE}/jobs/${id}/ws`, { headers: { Upgrade: "websocket" } })).status).toBe(410);
  expect(upgradeRefusal(new Headers({ Upgrade: "websocket" }))).toBeNull();
});

it("tells a missing upgrade (426), a wrong version and a wrong key apart", () => {
  const refusal = (headers: Record<string, string>) => upgradeRefusal(new Headers(headers));
  expect(refusal(UPGRADE)).toBeNull();
  expect(refusal({ ...UPGRADE, Upgrade: "WebSocket" })).toBeNull();
  expect(refusal({})?.status).toBe(426);
  const version = refusal({ ...UPGRADE, "Sec-WebSocket-Version": "12" });
  expect(version?.message).toContain("version 13");
  // RFC 6455 §4.2.2: the refusal names the version this server speaks.
  expect(version?.headers).toEqual({ "Sec-WebSocket-Version": "13" });
  expect(refusal({ ...UPGRADE, "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ" })?.message).toContain("16 random bytes");
  expect(refusal({ ...UPGRADE, "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==x" })?.message).toContain("16 random bytes");
});

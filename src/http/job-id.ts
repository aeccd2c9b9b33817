// Public job ids: 16 random bytes and an 8-byte HMAC tag, base64url (32 characters).
// The tag lets the Worker refuse a forged or mistyped id without addressing any object.
// With an Idempotency-Key the random part is a keyed hash of the owner and the key, so
// a retried create lands on the same object, and two owners' keys never meet.
import { fromBase64Url, toBase64Url } from "../lib/crypto";

const RANDOM_BYTES = 16;
const TAG_BYTES = 8;
const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

async function hmac(secret: string, label: string, data: Uint8Array): Promise<Uint8Array> {
  const message = new Uint8Array([...encoder.encode(label), 0, ...data]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), message));
}

/** An idempotency key within its owner's scope. */
export interface ScopedKey {
  owner: string;
  key: string;
}

export async function mintJobId(secret: string, idempotency?: ScopedKey): Promise<string> {
  const random = idempotency === undefined
    ? crypto.getRandomValues(new Uint8Array(RANDOM_BYTES))
    : (await hmac(secret, "idempotency-key", encoder.encode(`${idempotency.owner}\0${idempotency.key}`))).slice(0, RANDOM_BYTES);
  const tag = (await hmac(secret, "job-id", random)).slice(0, TAG_BYTES);
  return toBase64Url(new Uint8Array([...random, ...tag]));
}

/** True only for ids this deployment minted, with any of its id secrets (the current one and, during a rotation, the previous). */
export async function isGenuineJobId(secrets: readonly string[], id: string): Promise<boolean> {
  if (!JOB_ID_PATTERN.test(id)) return false;
  const bytes = fromBase64Url(id);
  for (const secret of secrets) {
    const expected = (await hmac(secret, "job-id", bytes.slice(0, RANDOM_BYTES))).slice(0, TAG_BYTES);
    if (crypto.subtle.timingSafeEqual(expected, bytes.slice(RANDOM_BYTES))) return true;
  }
  return false;
}

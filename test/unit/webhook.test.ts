import { expect, it } from "vitest";
import { webhookKeyOf, webhookKeysOf } from "../../src/access-config";
import { afterAttempt, MAX_ATTEMPTS, RETRY_DELAYS_MS, webhookSignature, type WebhookRecord } from "../../src/job/webhook";

it("signs as the Standard Webhooks specification's own example does", async () => {
  const key = webhookKeyOf("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")!;
  expect(await webhookSignature([key], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
});

it("signs with the new and the previous secret during a rotation, the new one's signature first, space-separated", async () => {
  const example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const fresh = `whsec_${btoa("n".repeat(32))}`;
  const keys = webhookKeysOf({ WEBHOOK_SECRET: fresh, WEBHOOK_SECRET_PREVIOUS: example });
  const signature = await webhookSignature(keys, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}');
  const [first, second] = signature.split(" ");
  expect(second).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  expect(first).toBe(await webhookSignature(webhookKeysOf({ WEBHOOK_SECRET: fresh }), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'));
  expect(first).not.toBe(second);
  // No current secret: no webhooks, whatever the previous one is.
  expect(webhookKeysOf({ WEBHOOK_SECRET_PREVIOUS: example })).toEqual([]);
});

it("accepts only whsec_ secrets of 24 to 64 bytes", () => {
  expect(webhookKeyOf("whsec_" + btoa("x".repeat(24)))).toHaveLength(24);
  for (const bad of ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_" + btoa("short"), "whsec_" + btoa("x".repeat(65)), "whsec_!!!", "whsec_short", "whsec_" + "A".repeat(33)]) expect(webhookKeyOf(bad)).toBeNull();
});

const pending: WebhookRecord = { url: "https://hooks.example/x", state: "pending", attempts: 0, next: null };

it("retries a failed delivery with growing waits, then gives up", () => {
  let record = pending;
  for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
    const next = afterAttempt(record, { ok: false, status: 503, error: "HTTP 503" }, 1_000);
    expect(next.event).toEqual({ attempt, outcome: "retrying", httpStatus: 503, error: "HTTP 503", until: 1_000 + RETRY_DELAYS_MS[attempt - 1]! });
    record = next.record;
  }
  const last = afterAttempt(record, { ok: false, error: "could not connect" }, 1_000);
  expect(last.record).toMatchObject({ state: "failed", attempts: MAX_ATTEMPTS, next: null });
  expect(last.event).toEqual({ attempt: MAX_ATTEMPTS, outcome: "failed", error: "could not connect" });
});

it("stops at a delivery, and at once when no attempt could succeed", () => {
  expect(afterAttempt(pending, { ok: true, status: 204 }, 0)).toEqual({
    record: { ...pending, state: "delivered", attempts: 1, next: null }, event: { attempt: 1, outcome: "delivered", httpStatus: 204 },
  });
  expect(afterAttempt(pending, { ok: false, error: "no secret", final: true }, 0).record.state).toBe("failed");
});

import { describe, expect, it } from "vitest";
import { isGenuineJobId, mintJobId } from "../../src/http/job-id";

describe("job ids", () => {
  it("mints unguessable 32-character URL-safe ids that verify under their secret only", async () => {
    const ids = await Promise.all(Array.from({ length: 50 }, () => mintJobId("s1")));
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(await isGenuineJobId(["s1"], id)).toBe(true);
      expect(await isGenuineJobId(["s2"], id)).toBe(false);
    }
  });

  it("derives the same id from the same owner and idempotency key, and different ids from other keys, owners or secrets", async () => {
    const key = (key: string, owner = "alice") => ({ owner, key });
    const a = await mintJobId("s1", key("order-42"));
    expect(await mintJobId("s1", key("order-42"))).toBe(a);
    expect(await mintJobId("s1", key("order-43"))).not.toBe(a);
    expect(await mintJobId("s1", key("order-42", "bob"))).not.toBe(a);
    expect(await mintJobId("s2", key("order-42"))).not.toBe(a);
    expect(await isGenuineJobId(["s1"], a)).toBe(true);
  });

  it("takes ids tagged by any of the secrets given (the current and, during a rotation, the previous)", async () => {
    const old = await mintJobId("s1");
    expect(await isGenuineJobId(["s2", "s1"], old)).toBe(true);
    expect(await isGenuineJobId(["s2", "s1"], await mintJobId("s2"))).toBe(true);
    expect(await isGenuineJobId(["s2", "s3"], old)).toBe(false);
    expect(await isGenuineJobId([], old)).toBe(false);
  });

  it("refuses every changed character and anything malformed", async () => {
    const id = await mintJobId("s1");
    for (let i = 0; i < id.length; i++) {
      const changed = id.slice(0, i) + (id[i] === "A" ? "B" : "A") + id.slice(i + 1);
      expect(await isGenuineJobId(["s1"], changed)).toBe(false);
    }
    for (const bad of ["", "short", `${id}=`, id.slice(1), `${id.slice(0, 31)}+`, `${id.slice(0, 31)}/`, "é".repeat(32)]) {
      expect(await isGenuineJobId(["s1"], bad)).toBe(false);
    }
  });
});

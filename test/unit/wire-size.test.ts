// A frame's bytes as the runtime sends it (UTF-8), which the fan-out's credit counts.
import { expect, it } from "vitest";
import { wireSize } from "../../src/lib/fanout";

it("counts a text frame's UTF-8 bytes, and a byte frame's length", () => {
  const encoder = new TextEncoder();
  for (const text of ["", "plain ascii", "é", "€uro", "日本語", "😀 and 𝄞", "a lone \ud800 surrogate", `{"message":"${"€".repeat(1_000)}"}`]) {
    expect(wireSize(text), JSON.stringify(text.slice(0, 20))).toBe(encoder.encode(text).byteLength);
  }
  expect(wireSize(new Uint8Array(17))).toBe(17);
});

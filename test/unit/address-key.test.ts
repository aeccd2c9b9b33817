// Anonymous visitors are counted by IPv4 address or by IPv6 /64: the addresses of one
// subscriber line share a key however they are written.
import { expect, it } from "vitest";
import { addressKey } from "../../src/http/auth";

it("keeps IPv4 addresses as they are", () => {
  expect(addressKey("192.0.2.7")).toBe("192.0.2.7");
});

it("counts an IPv6 address by its /64, however it is written", () => {
  const key = "2001:db8:0:1::/64";
  for (const ip of ["2001:db8:0:1::1", "2001:0db8:0000:0001:aaaa:bbbb:cccc:dddd", "2001:DB8:0:1:ffff::", "2001:db8::1:0:0:0:1"]) {
    expect(addressKey(ip), ip).toBe(key);
  }
  expect(addressKey("2001:db8:0:2::1")).not.toBe(key);
  expect(addressKey("::1")).toBe("0:0:0:0::/64");
  expect(addressKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
});

it("keeps anything else bounded rather than guessing", () => {
  expect(addressKey("unknown")).toBe("unknown");
  expect(addressKey(`zz:${"9".repeat(100)}`)).toHaveLength(45);
});

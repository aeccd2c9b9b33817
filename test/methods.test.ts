// A method a route does not answer is a 405 naming the ones it does (Allow), not a 404
// that says the route does not exist; a path no route has stays a 404.
import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import type { ApiError } from "../src/protocol";
import { auth, BASE, createJob } from "./helpers";

it("answers a method a route does not take with 405 and Allow", async () => {
  const id = await createJob("sleepy", { duration: "1 minute" });
  const cases: [string, string, string][] = [
    ["PUT", `/jobs/${id}`, "GET, DELETE, HEAD"],
    ["PATCH", `/jobs/${id}`, "GET, DELETE, HEAD"],
    ["GET", `/jobs/${id}/cancel`, "POST"],
    ["DELETE", "/jobs", "GET, POST, HEAD"],
    ["POST", "/health", "GET, HEAD"],
  ];
  for (const [method, path, allow] of cases) {
    const response = await SELF.fetch(`${BASE}${path}`, { method, headers: auth() });
    expect(response.status, `${method} ${path}`).toBe(405);
    expect(new Set(response.headers.get("Allow")!.split(", ")), `${method} ${path}`).toEqual(new Set(allow.split(", ")));
    expect((await response.json<ApiError>()).error.code).toBe("method_not_allowed");
  }
  // No such route, or a forged id: still 404, without asking any job.
  for (const path of ["/nothing-here", `/jobs/${id}/nothing`, `/jobs/${"A".repeat(32)}`]) {
    const response = await SELF.fetch(`${BASE}${path}`, { method: "PUT", headers: auth() });
    expect(response.status, path).toBe(404);
  }
});

it("keeps Allow on a 405 a browser gets as a page", async () => {
  const id = await createJob("sleepy", { duration: "1 minute" });
  const response = await SELF.fetch(`${BASE}/jobs/${id}/cancel`, { headers: { Accept: "text/html" } });
  expect(response.status).toBe(405);
  expect(response.headers.get("Content-Type")).toContain("text/html");
  expect(response.headers.get("Allow")).toBe("POST");
});

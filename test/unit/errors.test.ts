// What a request gets when something below it fails: the platform's transient Durable
// Object errors are a 503 to retry, anything else a bare 500 that says nothing inside.
import { Hono } from "hono";
import { expect, it } from "vitest";
import { onError } from "../../src/http/errors";

function appThrowing(error: Error): Hono {
  const app = new Hono();
  app.onError(onError);
  app.get("/", () => {
    throw error;
  });
  return app;
}

it("answers a Durable Object that is restarting or was reset with 503 and Retry-After: 1, an overloaded one with Retry-After: 10", async () => {
  for (const mark of [{ retryable: true }, { durableObjectReset: true }]) {
    const response = await appThrowing(Object.assign(new Error("Durable Object reset because its code was updated."), mark)).request("/");
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(await response.json()).toEqual({ error: { code: "unavailable", message: "Busy or restarting just now; try again in a moment" } });
  }
  // Retried at once, an overloaded object stays overloaded: Cloudflare advises against it.
  const overloaded = await appThrowing(Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), { overloaded: true, retryable: true })).request("/");
  expect(overloaded.status).toBe(503);
  expect(overloaded.headers.get("Retry-After")).toBe("10");
  expect(((await overloaded.json()) as { error: { code: string } }).error.code).toBe("unavailable");
});

it("answers anything else with a 500 that does not repeat the error", async () => {
  const response = await appThrowing(new Error("secret detail")).request("/");
  expect(response.status).toBe(500);
  expect(await response.text()).not.toContain("secret");
});

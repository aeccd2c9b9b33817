// The pages' scripts, styles and icon are Workers static assets, served before the Worker:
// their security headers come from src/client/_headers, not from Hono's secure-headers.
import { expect, inject, it } from "vitest";

const baseUrl = inject("baseUrl");

it("serves the pages' assets with the Worker's security headers, and not the _headers file itself", async () => {
  const page = await fetch(`${baseUrl}/`, { headers: { Accept: "text/html" } });
  const assets = [...(await page.text()).matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  expect(assets.length).toBeGreaterThanOrEqual(2);
  for (const path of new Set(assets)) {
    const asset = await fetch(`${baseUrl}${path}`);
    expect(asset.status, path).toBe(200);
    for (const name of ["Content-Security-Policy", "Cross-Origin-Resource-Policy", "Referrer-Policy", "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options"]) {
      expect(asset.headers.get(name), `${name} on ${path}`).toBe(page.headers.get(name));
    }
    await asset.arrayBuffer();
  }
  expect((await fetch(`${baseUrl}/_headers`)).status).toBe(404);
});

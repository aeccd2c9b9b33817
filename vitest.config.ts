import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      // The test worker is the app plus fixture job types that count their side effects.
      main: "./test/worker.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { JOB_ID_SECRET: "test-secret", RETENTION: "1 day", PROGRESS_WINDOW: "100 ms", MAX_EVENTS: "300", MAX_SUBSCRIBERS: "250" },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
  },
});

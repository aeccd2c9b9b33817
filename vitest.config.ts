import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_SECRETS } from "./test/secrets.ts";

/** The library's entry points, for code that imports it by name (the example Worker). */
const LIBRARY = {
  "live-jobs/define": new URL("./src/authoring.ts", import.meta.url).pathname,
  "live-jobs/client": new URL("./src/sdk/client.ts", import.meta.url).pathname,
  "live-jobs": new URL("./src/server.ts", import.meta.url).pathname,
};

export default defineConfig({
  test: {
    // Files at once, across the projects. Vitest's default is one less than the cores: one
    // on a 2-core CI runner, which ran every file in turn, though the files mostly wait (the
    // end-to-end ones on real time: jobs that sleep, pages that reload). Each file has its
    // own jobs and owners (the dashboard tests an owner of their own), so they may overlap.
    // Three at once slowed the end-to-end files on a busy 2-core machine until a test with a
    // 4-second session timed out.
    maxWorkers: 2,
    projects: [
      {
        // Integration and unit tests inside workerd.
        plugins: [
          cloudflareTest({
            // The test worker is the app plus fixture job types that count their side effects.
            main: "./test/worker.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // Another Worker's view of the app: a service binding to its RPC entrypoint.
              serviceBindings: { JOBS_API: { name: "live-jobs", entrypoint: "JobsRpc" } },
              bindings: {
                ...TEST_SECRETS,
                ALLOWED_ORIGINS: "https://app.example",
                PUBLIC_ORIGIN: "http://jobs.test",
                RETENTION: "1 day",
                BATCH_WINDOW: "100 ms",
                // test/mux.test.ts moves the virtual clock past it.
                LIVE_IDLE_TIMEOUT: "2 seconds",
                JOB_BUDGET: "steps=20000, events=50000, bytes=32 MiB",
                MAX_ACTIVE_JOBS: "100000",
                MAX_SUBSCRIBERS: "250",
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/**/*.test.ts"],
          exclude: ["test/e2e/**"],
          testTimeout: 20_000,
          // One workerd (one Miniflare) for the files a Vitest worker runs, not one per file:
          // starting one per file cost about 2.5 s each, two thirds of this project's time.
          // Files then share storage, rate limits and module state, as the integration's
          // docs say of --no-isolate: each file makes its own owners, ids, keys and tags,
          // and resets the fixtures it sets (test/fixtures/jobs.ts) after each test.
          isolate: false,
        },
      },
      {
        // The example Worker (examples/minimal), built on the library as an app would.
        resolve: { alias: LIBRARY },
        plugins: [
          cloudflareTest({
            main: "./examples/minimal/worker.ts",
            wrangler: { configPath: "./examples/minimal/wrangler.toml" },
            miniflare: { bindings: { JOB_ID_SECRET: TEST_SECRETS.JOB_ID_SECRET } },
          }),
        ],
        test: { name: "example", include: ["examples/**/*.test.ts"] },
      },
      {
        // End-to-end tests in Node against `wrangler dev`: curl and a real browser; and the
        // bench's own tests (its code runs on Node).
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts", "bench/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});

// Starts `wrangler dev` for the bench on a snapshot of the project: wrangler dev rebuilds
// and restarts the Worker on every file change, and an edit made while the bench runs
// must not restart the objects under measurement. The snapshot's own copy of
// test/e2e/wrangler-dev.ts starts it, so it runs as the end-to-end tests do, but with the
// bench's own config (bench/wrangler.toml: the app plus the bench's job types and the floor).
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { findDevProcesses, type DevProcesses } from "./proc.ts";

type WranglerDevModule = typeof import("../../test/e2e/wrangler-dev.ts");

const PROJECT = join(import.meta.dirname, "../..");
/** Not copied: dependencies are linked, and build output and local state are made afresh. */
const SKIPPED = new Set(["node_modules", ".git", ".wrangler", "dist", "test-results", "bench/results"]);

export interface BenchServer {
  url: string;
  port: number;
  /** Looked up on demand: a crashed runtime would be replaced by a new process. */
  processes(): DevProcesses;
  stop(): Promise<void>;
}

/**
 * `--without-rate-limits` (a flag of every bench script that starts a server): the snapshot's
 * config has no Rate Limiting bindings, so creates skip the check. Wrangler dev stands in for
 * the binding with a fetch to a Durable Object of miniflare's that commits a SQLite row per
 * call; deployed, the binding is a counter on the Worker's own machine. Off by default: the
 * bench measures the app as configured.
 */
export const withoutRateLimits = process.argv.includes("--without-rate-limits");

/** `port`: wrangler dev's, or a free one. */
export async function startBenchServer(vars: Record<string, string>, port?: number): Promise<BenchServer> {
  const root = mkdtempSync(join(tmpdir(), "live-jobs-bench-"));
  const removeCopy = () => rmSync(root, { recursive: true, force: true });
  try {
    cpSync(PROJECT, root, { recursive: true, filter: (source) => !SKIPPED.has(relative(PROJECT, source)) });
    if (withoutRateLimits) {
      const config = join(root, "bench/wrangler.toml");
      const stripped = readFileSync(config, "utf8").replace(/^\[\[ratelimits\]\]\n(?:[^[\n].*\n)*/gm, "");
      if (stripped.includes("ratelimits")) throw new Error("--without-rate-limits: bench/wrangler.toml has a [[ratelimits]] table this cannot remove");
      writeFileSync(config, stripped);
    }
    symlinkSync(join(PROJECT, "node_modules"), join(root, "node_modules"));
    const helper = (await import(pathToFileURL(join(root, "test/e2e/wrangler-dev.ts")).href)) as WranglerDevModule;
    // Wrangler's local observability (on by default) streams a trace of every invocation,
    // storage call and subrequest to a collector object in the same runtime; deployed
    // Workers pay nothing of the kind, and it made ours, with more calls per job, look
    // costlier than it is (more than half of a job's CPU here). The bench measures without it.
    const dev = await helper.startWranglerDev({ port, vars, persistTo: join(root, ".state"), config: "bench/wrangler.toml", env: { X_LOCAL_OBSERVABILITY: "false" } });
    return {
      url: dev.url,
      port: dev.port,
      processes: () => findDevProcesses(dev.port),
      async stop() {
        try {
          await dev.stop();
        } finally {
          removeCopy();
        }
      },
    };
  } catch (error) {
    removeCopy();
    throw error;
  }
}

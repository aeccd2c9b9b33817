// Starts `wrangler dev` on 127.0.0.1 for end-to-end tests and benchmarks, and stops it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface DevServer {
  url: string;
  port: number;
  persistTo: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface DevOptions {
  port?: number;
  /** Local storage folder; reuse it to restart the same app with its jobs. */
  persistTo?: string;
  vars?: Record<string, string>;
  /** A wrangler config other than ./wrangler.toml (`wrangler dev -c <file>`), relative to the project. */
  config?: string;
  /** Environment variables for wrangler itself, on top of this process's. */
  env?: Record<string, string>;
}

/** Signs the completion webhooks of the deployments these tests start. */
export const WEBHOOK_SECRET = "whsec_" + Buffer.from("e2e-webhook-secret-0123456789").toString("base64");

/** The owner token of the deployments these tests start (owner "e2e"). */
export const E2E_TOKEN = "e2e-owner-token-0123456789abcdef";
/**
 * An owner of the dashboard tests' own ("e2e-dashboard"): they count an owner's jobs by
 * state, which other files' jobs of owner "e2e", running at the same time, would change.
 */
export const DASHBOARD_TOKEN = "e2e-dashboard-token-0123456789abcdef";
/** Signs the JWTs these tests present. */
export const E2E_JWT_SECRET = "e2e-jwt-secret-0123456789abcdef0123456789abcd";
/** Secrets as `--var`s, so a developer's own .dev.vars never changes what the tests see. */
const E2E_SECRETS = {
  JOB_ID_SECRET: "e2e-job-id-secret-0123456789abcdef0123456789",
  JWT_SECRET: E2E_JWT_SECRET,
  API_TOKENS: `e2e=${E2E_TOKEN},e2e-dashboard=${DASHBOARD_TOKEN}`,
};

export async function startWranglerDev(options: DevOptions = {}): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), "live-jobs-"));
  const vars = Object.entries({ ...E2E_SECRETS, ...options.vars }).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  const config = options.config === undefined ? [] : ["-c", options.config];
  const child = spawn(
    "npx",
    ["wrangler", "dev", ...config, "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistTo, "--inspector-port", "0", "--show-interactive-dev-session=false", ...vars],
    { cwd: join(import.meta.dirname, "../.."), detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false", ...options.env } },
  );
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, child, () => output);
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return { url, port, persistTo, stop: () => stopProcess(child) };
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output()}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`wrangler dev did not answer within 60 s:\n${output()}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(-child.pid, "SIGTERM");
  const timer = setTimeout(() => child.exitCode === null && process.kill(-child.pid!, "SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

// Builds the browser code (src/client) into dist/client, which wrangler serves as static
// assets. wrangler.toml's [build] runs it before `wrangler dev` and `wrangler deploy`.
// A file is only written when its bytes change: several `wrangler dev` may start at once
// (the end-to-end tests do), and none should ever serve a half-written file.
import { build } from "esbuild";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = join(root, "dist/client/assets");

const result = await build({
  absWorkingDir: root,
  entryPoints: { home: "src/client/home.ts", job: "src/client/job.ts", dashboard: "src/client/dashboard.ts", app: "src/client/styles.css" },
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  outdir,
  write: false,
  logLevel: "warning",
});

const files = [
  ...result.outputFiles.map((f) => ({ path: f.path, bytes: f.contents })),
  { path: join(outdir, "icon.svg"), bytes: await readFile(join(root, "src/client/icon.svg")) },
  // The assets' security headers (Workers static assets read _headers at the assets' root).
  { path: join(outdir, "../_headers"), bytes: await readFile(join(root, "src/client/_headers")) },
];
for (const { path, bytes } of files) await writeIfChanged(path, bytes);

async function writeIfChanged(path, bytes) {
  const old = await readFile(path).catch(() => null);
  if (old && Buffer.compare(old, Buffer.from(bytes)) === 0) return;
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}

// `bench:wakeups --samples`: where the runtime's CPU went, from `perf script -F ip,sym,dso`
// of samples of its threads' stacks. Each sample is put down to the code it was in (its
// leaf frame) and, in the kernel, to the syscall that brought it there: SQLite's files,
// made (openat) and synced (fsync), are kernel time the JavaScript never sees.

/** A sample's kind, from its frames (leaf first, each "ip symbol (dso)"). */
export function sampleKind(frames: string[]): string {
  const leaf = frames[0] ?? "";
  if (leaf.includes("[kernel.kallsyms]")) {
    const call = frames.map((f) => /__(?:x64_sys|do_sys)_(\w+)/.exec(f)?.[1]).find((name) => name !== undefined);
    if (call === "fsync" || call === "fdatasync") return "kernel: fsync";
    if (call === "openat") return "kernel: openat";
    return call ? "kernel: other syscalls" : "kernel: interrupts and scheduling";
  }
  // Compiled code is in the runtime's perf map (or unnamed); the interpreter and baseline code run as builtins.
  if (/\[JIT\]|perf-\d+\.map| Builtins_/.test(leaf)) return "JavaScript (V8's interpreter, builtins and compiled code)";
  if (/ (sqlite3|unix[A-Z]|yy_|pager|btree|vdbe|wal|pcache)/.test(leaf)) return "SQLite";
  if (/tcmalloc|TCMalloc/.test(leaf)) return "allocator";
  if (/ (v8::|cppgc::|_ZN2v8|_ZN5cppgc)/.test(leaf)) return "V8 runtime (handles, GC, JSON, API)";
  if (/ <?(workerd|kj|capnp|_ZN7workerd|_ZN2kj|_ZN5capnp|async_trace|tokio|futures_util|absl::|ada::|simdutf|__dynamic_cast)/.test(leaf)) return "the runtime's own code (workerd, kj, capnp, its Rust)";
  if (leaf.includes("libc.so")) return "libc";
  return "other";
}

/** Samples by kind in a `perf script` output, most first. */
export function samplesByKind(script: string): [kind: string, samples: number][] {
  const counts = new Map<string, number>();
  for (const sample of script.split("\n\n")) {
    const frames = sample.split("\n").map((line) => line.trim()).filter(Boolean);
    if (frames.length === 0) continue;
    const kind = sampleKind(frames);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

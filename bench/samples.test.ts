// `bench:wakeups --samples`: a sample of the runtime's stacks is put down to the code it
// was in, and kernel time to the syscall that brought it there.
import { expect, it } from "vitest";
import { sampleKind, samplesByKind } from "./lib/samples.ts";

const WORKERD = "(/x/node_modules/@cloudflare/workerd-linux-64/bin/workerd)";
const frame = (ip: string, symbol: string, dso: string) => `\t${ip.padStart(16)} ${symbol} ${dso}`;

const fsync = [
  frame("ffffffff8223b5a5", "ext4_sync_file", "([kernel.kallsyms])"),
  frame("ffffffff8223b000", "__x64_sys_fsync", "([kernel.kallsyms])"),
  frame("ffffffff81000130", "entry_SYSCALL_64_after_hwframe", "([kernel.kallsyms])"),
  frame("10a974", "fsync", "(/usr/lib/x86_64-linux-gnu/libc.so.6)"),
  frame("5f0a11", "unixSync", WORKERD),
].join("\n");
const interrupt = [frame("ffffffff82240c89", "pvm_irq_enable", "([kernel.kallsyms])"), frame("5f0a11", "kj::EventLoop::wait", WORKERD)].join("\n");
const compiled = frame("55cce0009f07", "[unknown]", "(/tmp/perf-8274.map)");
const interpreted = frame("4b3b01d", "Builtins_GetProperty", WORKERD);
const sqlite = frame("5f0b00", "sqlite3VdbeExec", WORKERD);
const runtime = frame("2c757c1", "workerd::jsg::ResourceWrapper<workerd::api::Headers>::wrap", WORKERD);
const mangled = frame("2c757c2", "_ZN7workerd3jsg14MethodCallbackINS_6server29JsgWorkerdIsolate_TypeWrapperE", WORKERD);
const v8 = frame("4b3b020", "v8::internal::GlobalHandles::Create", WORKERD);

const lines = (sample: string) => sample.split("\n").map((line) => line.trim());

it("puts kernel time down to the syscall the runtime made, and the rest to the code it was in", () => {
  expect(sampleKind(lines(fsync))).toBe("kernel: fsync");
  expect(sampleKind(lines(interrupt))).toBe("kernel: interrupts and scheduling");
  expect(sampleKind(lines(compiled))).toMatch(/^JavaScript/);
  expect(sampleKind(lines(interpreted))).toMatch(/^JavaScript/);
  expect(sampleKind(lines(sqlite))).toBe("SQLite");
  expect(sampleKind(lines(runtime))).toMatch(/^the runtime's own code/);
  expect(sampleKind(lines(mangled))).toMatch(/^the runtime's own code/);
  expect(sampleKind(lines(v8))).toMatch(/^V8 runtime/);
});

it("counts perf script's samples by kind, most first", () => {
  const script = ["", compiled, fsync, interpreted, sqlite, ""].join("\n\n");
  expect(samplesByKind(script)).toEqual([
    ["JavaScript (V8's interpreter, builtins and compiled code)", 2],
    ["kernel: fsync", 1],
    ["SQLite", 1],
  ]);
});

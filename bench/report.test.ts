// The bench's comparison of job throughput: with --rounds, each round's contenders are
// paired with each other, never across rounds, and each figure is the rounds' median.
import { expect, it } from "vitest";
import { compare } from "./report.ts";
import type { JobThroughputRow } from "./scenarios/job-throughput.ts";

function row(contender: JobThroughputRow["contender"], round: number, jobsPerSecond: number, runtimeCpuMsPerJob: number): JobThroughputRow {
  const summary = { n: 1, p50: 1, p99: 1, max: 1 };
  return {
    contender, job: "demo", clients: 10, round, completed: 100, failed: 0, jobsPerSecond, createMs: summary, endToEndMs: summary,
    cpu: { runtime: 0, proxy: 0, client: 0, cli: 0, other: 0, runtimeSeconds: 0, proxySeconds: 0, elapsedSeconds: 1 }, runtimeCpuMsPerJob, proxyCpuMsPerJob: 0, settleMs: 0, sampleIds: [], errors: [],
  };
}

it("pairs the contenders of each round and reports the rounds' medians and ranges", () => {
  // The machine slowed down in round 2: every contender paid twice as much there.
  const rows = [
    row("project", 1, 60, 12), row("floor", 1, 100, 8), row("floor-durable", 1, 80, 9),
    row("floor", 2, 50, 16), row("floor-durable", 2, 40, 18), row("project", 2, 30, 24),
    row("floor-durable", 3, 80, 9), row("project", 3, 50, 15), row("floor", 3, 100, 8),
  ];
  const [jobs] = compare(rows, []).jobs;
  expect(jobs).toMatchObject({
    clients: 10, rounds: 3,
    cpuPerJobRatio: 1.5, cpuPerJobRatioRange: [1.5, 1.875],
    jobsPerSecondRatio: 0.6, jobsPerSecondRatioRange: [0.5, 0.6],
    projectCpuMsPerJob: 15, floorCpuMsPerJob: 8, durableCpuPerJobRatio: 1.125,
  });
});

it("compares one round as before: its own figures", () => {
  const [jobs] = compare([row("project", 1, 60, 12), row("floor", 1, 100, 8)], []).jobs;
  expect(jobs).toMatchObject({ rounds: 1, cpuPerJobRatio: 1.5, cpuPerJobRatioRange: [1.5, 1.5], jobsPerSecondRatio: 0.6, durableCpuMsPerJob: null });
});

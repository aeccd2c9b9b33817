// What `npm run bench` measures, sized for a 2-core machine and a run of a few minutes.
import type { Transport } from "./lib/subscribers.ts";

export interface Plan {
  name: string;
  /** Idle subscribers per transport; stalled viewers per transport (and as many idle ones of a small job). */
  memory: { idle: number; stalled: number };
  latency: {
    /** Events per second the job publishes, and for how long. */
    rate: number;
    seconds: number;
    runs: { transport: Transport; sizes: number[] }[];
    /** The floor's ticker to as many WebSocket subscribers, after the project's run of that size. */
    floor: number[];
    /** The floor's ticker to as many SSE viewers, served by the object and bridged by the Worker, after the project's SSE run. */
    floorSse: number[];
    /** The same runs against the runtime's own port, bypassing wrangler dev's proxy. */
    direct: { transport: Transport; subscribers: number }[];
  };
  knee: { transport: Transport; subscribers: number }[];
  /** Offered deliveries per second of the knee's phases. */
  kneeLadder: number[];
  /** Each number of clients runs the project's job, then the floor's, then the durable floor's. */
  jobs: { clients: number[]; seconds: number };
  /** Events of the finished job one reader replays over each transport. */
  replay: { events: number };
}

export const FULL_PLAN: Plan = {
  name: "full",
  memory: { idle: 1_000, stalled: 30 },
  latency: {
    rate: 5,
    seconds: 3,
    runs: [
      { transport: "ws", sizes: [100, 1_000] },
      { transport: "sse", sizes: [100, 1_000] },
      { transport: "text", sizes: [100, 1_000] },
    ],
    floor: [100, 1_000],
    floorSse: [1_000],
    direct: [],
  },
  knee: [
    { transport: "ws", subscribers: 100 },
    { transport: "ws", subscribers: 1_000 },
    { transport: "sse", subscribers: 100 },
    { transport: "sse", subscribers: 1_000 },
  ],
  kneeLadder: [2_500, 5_000, 10_000, 20_000, 40_000, 80_000],
  jobs: { clients: [1, 10, 50], seconds: 5 },
  replay: { events: 50_000 },
};

export const QUICK_PLAN: Plan = {
  name: "quick",
  memory: { idle: 100, stalled: 10 },
  latency: {
    rate: 5,
    seconds: 2,
    runs: [
      { transport: "ws", sizes: [100] },
      { transport: "sse", sizes: [100] },
      { transport: "text", sizes: [100] },
    ],
    floor: [100],
    floorSse: [100],
    direct: [],
  },
  knee: [{ transport: "ws", subscribers: 100 }],
  kneeLadder: [10_000, 40_000],
  jobs: { clients: [10], seconds: 5 },
  replay: { events: 20_000 },
};

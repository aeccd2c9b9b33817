// What `npm run bench` measures, sized for a 2-core machine and a run of a few minutes.
import type { Transport } from "./lib/subscribers.ts";

export interface Plan {
  name: string;
  memory: { subscribers: number };
  latency: {
    /** Events per second the job publishes, and for how long. */
    rate: number;
    seconds: number;
    runs: { transport: Transport; sizes: number[] }[];
    /** The same runs against the runtime's own port, bypassing wrangler dev's proxy. */
    direct: { transport: Transport; subscribers: number }[];
  };
  knee: { transport: Transport; subscribers: number }[];
  jobs: { clients: number[]; seconds: number };
}

export const FULL_PLAN: Plan = {
  name: "full",
  memory: { subscribers: 1_000 },
  latency: {
    rate: 5,
    seconds: 4,
    runs: [
      { transport: "ws", sizes: [100, 1_000, 3_000] },
      { transport: "sse", sizes: [100, 1_000] },
      { transport: "text", sizes: [100, 1_000] },
    ],
    direct: [
      { transport: "ws", subscribers: 1_000 },
      { transport: "sse", subscribers: 1_000 },
    ],
  },
  knee: [
    { transport: "ws", subscribers: 100 },
    { transport: "ws", subscribers: 1_000 },
    { transport: "sse", subscribers: 100 },
    { transport: "sse", subscribers: 1_000 },
  ],
  jobs: { clients: [1, 10, 50], seconds: 4 },
};

export const QUICK_PLAN: Plan = {
  name: "quick",
  memory: { subscribers: 200 },
  latency: {
    rate: 5,
    seconds: 2,
    runs: [
      { transport: "ws", sizes: [100] },
      { transport: "sse", sizes: [100] },
      { transport: "text", sizes: [100] },
    ],
    direct: [{ transport: "ws", subscribers: 100 }],
  },
  knee: [{ transport: "ws", subscribers: 100 }],
  jobs: { clients: [1, 10], seconds: 2 },
};

// A minimal Worker that uses the engine as a library: one job type of its own, one route
// of its own, and everything else (API, pages, live streams, dashboard) from live-jobs.
import { Hono } from "hono";
import { liveJobs } from "live-jobs";
import { greet } from "./greet";

const live = liveJobs({ types: [greet] });

export const JobObject = live.JobObject;
export const OwnerIndex = live.OwnerIndex;
export const JobsRpc = live.JobsRpc;

const app = new Hono();
app.get("/hello", (c) => c.json({ hello: "from the example Worker", types: live.types.names }));
app.route("/", live.app);

export default app;

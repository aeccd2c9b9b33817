// The Worker: the HTTP app, and the Durable Object class every job lives in.
import { app } from "./http/app";

export { JobObject } from "./job/job-object";
export default app;

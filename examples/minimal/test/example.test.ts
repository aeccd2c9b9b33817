// The example Worker: its own route, its own job type run by the library, and the
// library's API and pages mounted beside them.
import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import type { CreatedJob, JobSnapshot } from "live-jobs";

const BASE = "http://example.test";

it("serves its own route beside the library's", async () => {
  expect(await (await SELF.fetch(`${BASE}/hello`)).json()).toEqual({ hello: "from the example Worker", types: ["greet"] });
  expect((await SELF.fetch(`${BASE}/health`)).status).toBe(200);
  const page = await SELF.fetch(`${BASE}/`, { headers: { Accept: "text/html" } });
  expect(await page.text()).toContain('<option value="greet"');
});

it("runs its own job type through the library, to a typed result", async () => {
  const response = await SELF.fetch(`${BASE}/jobs`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"type":"greet","input":{"name":"Ada"}}' });
  expect(response.status).toBe(201);
  const { id } = await response.json<CreatedJob>();
  const stub = env.JOBS.get(env.JOBS.idFromName(id));
  let snapshot: JobSnapshot;
  // The job's one-second pause passes on a clock the test moves, not by waiting.
  const realNow = Date.now.bind(Date);
  let offset = 0;
  vi.spyOn(Date, "now").mockImplementation(() => realNow() + offset);
  for (let alarms = 0; ; alarms++) {
    snapshot = await (await SELF.fetch(`${BASE}/jobs/${id}`)).json<JobSnapshot>();
    if (snapshot.state === "succeeded" || alarms > 10) break;
    offset += 1_100;
    await runDurableObjectAlarm(stub);
  }
  vi.restoreAllMocks();
  expect(snapshot).toMatchObject({ state: "succeeded", result: { greeting: "Hello, Ada!" } });
  // Types the app does not define are unknown here.
  const other = await SELF.fetch(`${BASE}/jobs`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"type":"demo"}' });
  expect(other.status).toBe(400);
});

it("limits anonymous creates, as the library's own Worker does", async () => {
  const create = () => SELF.fetch(`${BASE}/jobs`, { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.77" }, body: '{"type":"greet","input":{"name":"Ada"}}' });
  // 10 a minute in fixed 60-second windows: the 11th is refused, or, if a window began on
  // the way, one before the 21st (this test never spans two more).
  const statuses: number[] = [];
  while (statuses.length < 21 && statuses.at(-1) !== 429) statuses.push((await create()).status);
  expect(statuses.at(-1)).toBe(429);
  expect(statuses.slice(0, 10).every((status) => status === 201)).toBe(true);
});

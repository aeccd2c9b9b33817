// Presence: how many are watching a job, in its snapshot and as a frame when it changes.
// It is not stored: the log and its row count do not change.
import { expect, it, vi } from "vitest";
import type { ServerFrame } from "../src/protocol";
import { allEvents, createJob, snapshot, useVirtualClock } from "./helpers";
import { openSocket } from "./live-helpers";

useVirtualClock();

const presence = (frames: ServerFrame[]) => frames.flatMap((f) => (f.type === "presence" ? [f.viewers] : []));

it("counts viewers in the snapshot and tells watchers as they come and go", async () => {
  const id = await createJob("sleepy", { duration: "1 minute" });
  expect((await snapshot(id)).viewers).toBe(0);
  const first = await openSocket(id, "", "192.0.2.50");
  await vi.waitFor(() => expect(first.frames.length).toBeGreaterThan(0));
  expect(first.frames[0]).toMatchObject({ type: "snapshot", snapshot: { viewers: 1 } });
  const others = await Promise.all([1, 2].map((i) => openSocket(id, "", `192.0.2.${50 + i}`)));
  expect((await snapshot(id)).viewers).toBe(3);
  await vi.waitFor(() => expect(presence(first.frames).at(-1)).toBe(3), { timeout: 5_000 });
  // Nobody is told again the count its snapshot said.
  for (const other of others) {
    const [head] = other.frames;
    expect(presence(other.frames)[0]).not.toBe(head?.type === "snapshot" ? head.snapshot.viewers : undefined);
  }
  others[0]!.socket.close(1000, "bye");
  await vi.waitFor(() => expect(presence(first.frames).at(-1)).toBe(2), { timeout: 5_000 });
  await vi.waitFor(() => expect(presence(others[1]!.frames).at(-1)).toBe(2), { timeout: 5_000 });
  expect(await allEvents(id)).toHaveLength(1); // only "queued": presence is not in the log
  for (const client of [first, others[1]!]) client.socket.close(1000, "bye");
});

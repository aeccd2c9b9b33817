// The test Worker: the demo app's job types plus fixtures that count their side effects,
// an owner index whose admissions and reports can be made to hang or fail, and job
// objects that a test can start with other vars or without some types, as a deploy that
// changed them would.
import { JOB_TYPES } from "../app/jobs";
import type { Env } from "../src/env";
import type { AdmitOutcome } from "../src/owners/owner-index";
import type { JobListing } from "../src/protocol";
import { JobRegistry } from "../src/jobs/registry";
import { liveJobs } from "../src/server";
import { fixtureJobTypes, indexFaults, objectResets, probes, redeployed } from "./fixtures/jobs";

const live = liveJobs({ types: [...JOB_TYPES, ...fixtureJobTypes] });

export class JobObject extends live.JobObject {
  /** The types as the deploy the object started under has them (`redeployed.removedTypes` gone). */
  protected override readonly types = new JobRegistry(live.types.definitions.filter((d) => !redeployed.removedTypes.includes(d.type)));

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, { ...env, ...redeployed.vars });
  }

  /** A step of this alarm's slice may reset the object (see `killer`), found by the object's id. */
  override async alarm(): Promise<void> {
    const id = this.ctx.id.toString();
    objectResets.set(id, () => this.ctx.abort("injected: the object was reset"));
    try {
      await super.alarm();
    } finally {
      objectResets.delete(id);
    }
  }

  /** `probes.ignore`: a subscribe's `probe` is not understood, as by an object from before it; `probes.fail`: no request is answered; `probes.status`: every request is answered with it. */
  override async fetch(request: Request): Promise<Response> {
    if (probes.fail) throw new Error("injected: the object could not be reached");
    if (probes.status !== null) return new Response(null, { status: probes.status });
    if (!probes.ignore) return super.fetch(request);
    const url = new URL(request.url);
    url.searchParams.delete("probe");
    return super.fetch(new Request(url, request));
  }
}
export const JobsRpc = live.JobsRpc;
export class OwnerIndex extends live.OwnerIndex {
  /**
   * `admitHangs`: the admission is stored and never answered, as when the runtime dies before
   * its answer reaches the job; `admitAnswersLost`: so many are stored and answered with an error;
   * `holdAdmissions`: decided (and answered) only when the test says, as by a slow index.
   */
  override admit(listing: JobListing, maxActive: number): AdmitOutcome {
    if (indexFaults.holdAdmissions) {
      indexFaults.heldIds.push(listing.id);
      return new Promise<AdmitOutcome>((resolve) => indexFaults.heldAdmissions.push(() => resolve(super.admit(listing, maxActive)))) as unknown as AdmitOutcome;
    }
    const outcome = super.admit(listing, maxActive);
    if (indexFaults.admitAnswersLost > 0) {
      indexFaults.admitAnswersLost--;
      throw new Error("injected: the admission was stored, its answer lost");
    }
    // RPC waits for a promise it is given: this one never settles.
    return indexFaults.admitHangs ? (new Promise(() => {}) as unknown as AdmitOutcome) : outcome;
  }

  /**
   * `removeFails`: a removal is refused; `removeHangs`: stored and never answered, as when the
   * runtime dies before its answer reaches the job; `holdRemovals`: refused when the test says
   * (a slow index that then cannot be reached).
   */
  override remove(id: string): void {
    if (indexFaults.holdRemovals) {
      return new Promise<void>((_, reject) => indexFaults.heldRemovals.push(() => reject(new Error("injected index failure")))) as unknown as void;
    }
    if (indexFaults.removeFails) throw new Error("injected index failure");
    super.remove(id);
    if (indexFaults.removeHangs) return new Promise(() => {}) as unknown as void;
  }

  /**
   * `reportHangs`: a report is never stored nor answered, as when the runtime dies while the
   * job waits for it; `holdReports`: stored and answered when the test lets it go (a slow index).
   */
  override report(listing: JobListing, seq: number): void {
    if (indexFaults.reportHangs) return new Promise(() => {}) as unknown as void;
    if (indexFaults.holdReports) {
      return new Promise<void>((resolve) => indexFaults.heldReports.push(() => resolve(super.report(listing, seq)))) as unknown as void;
    }
    if (indexFaults.failing) throw new Error("injected index failure");
    super.report(listing, seq);
  }
}
export default live.app;

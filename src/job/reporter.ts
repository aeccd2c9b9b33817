// A job tells its owner's index about itself: created (its object does that as it admits
// the job), its state, its progress at most about once a second, its end, its removal.
// The outbox is the job's own storage: each report is made afresh from it, a report the
// index has not acknowledged is sent again (on a timer while the object is awake, and by
// its alarm, which every state change leaves armed), and the index ignores reports older
// than the one it has. So the index never loses a job and converges within seconds.
import type { JobListing } from "../protocol";
import type { IndexRpc } from "../owners/owner-index";

/** Changes are reported at most this often, the latest each time. */
export const REPORT_INTERVAL_MS = 1_000;
const MAX_RETRY_MS = 60_000;

export interface ReportSource {
  index(): IndexRpc;
  /** The job's listing now and the seq it is as of; null once the job is gone. */
  current(): { listing: JobListing; seq: number } | null;
  /** Makes sure the job's alarm fires by `at`, so a failed report is retried after an eviction. */
  wakeBy(at: number): Promise<void>;
}

export class Reporter {
  /** The seq the index acknowledged; 0 after a restart, so the first alarm reports again. */
  #acknowledged = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #failures = 0;

  /** The job's admission into the index is under way: see `now`. */
  #admitting = false;

  constructor(private readonly source: ReportSource) {}

  /** The job is being admitted: its admission, which holds the cap, is what lists it first. */
  admitting(): void {
    this.#admitting = true;
  }

  /** The admission was answered: the index has the job as of `seq` (0: unknown whether it has it at all). */
  admitted(seq: number): void {
    this.#admitting = false;
    this.#acknowledged = Math.max(this.#acknowledged, seq);
  }

  /** Something changed: report it within REPORT_INTERVAL_MS. */
  changed(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      void this.now();
    }, REPORT_INTERVAL_MS);
  }

  /** Reports now if the index is behind; on failure, schedules a retry. Never throws. */
  async now(): Promise<boolean> {
    // This report is made from the job as it is now: one that changed() had pending
    // would only wake the object a second later to find nothing new.
    this.stop();
    // Not before the admission is answered: the index would list the job without asking the
    // cap (a slow admission then answers "existing": the cap passed), or list one it then
    // refuses, which its object unmakes (a listing without a job, active for good). Asked
    // again a while later; by then the admission has said what the index has.
    if (this.#admitting) {
      this.changed();
      return false;
    }
    const current = this.source.current();
    if (!current || current.seq <= this.#acknowledged) return true;
    try {
      await this.source.index().report(current.listing, current.seq);
      this.#acknowledged = Math.max(this.#acknowledged, current.seq);
      this.#failures = 0;
      return true;
    } catch (error) {
      const delay = Math.min(MAX_RETRY_MS, 1_000 * 2 ** this.#failures++);
      console.warn(`report to the owner's index failed (retry in ${delay} ms)`, error);
      this.#timer ??= setTimeout(() => {
        this.#timer = null;
        void this.now();
      }, delay);
      await this.source.wakeBy(Date.now() + delay);
      return false;
    }
  }

  /** The job is being erased: the index must know before its storage goes. */
  async removed(id: string): Promise<boolean> {
    this.stop();
    try {
      await this.source.index().remove(id);
      return true;
    } catch (error) {
      console.warn("removal from the owner's index failed", error);
      return false;
    }
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

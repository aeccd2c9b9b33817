// The plain-text view for `curl -N`: one line per event with time, percent, step and
// message, ending with a line that states the outcome and the result or error. Job
// output is made terminal-safe: control characters (C0 but the line's own newline, DEL,
// C1, bidi and zero-width characters) are shown escaped, so a log line can neither drive
// the terminal, nor fake a line, nor read otherwise than it is.
import { percentOf } from "../lib/job-state";
import type { JobEvent, JobSnapshot, JobState } from "../protocol";

export const TEXT_HEADERS = {
  "Content-Type": "text/plain; charset=utf-8",
  "Cache-Control": "no-store, no-transform",
  "X-Accel-Buffering": "no",
  "Content-Encoding": "identity",
} as const;

/**
 * A text stream quiet this long gets a line saying so. Every byte shows in a terminal, so
 * it cannot have SSE's invisible heartbeat; but the runtime learns that a viewer hung up
 * only when a write fails, and until then the viewer holds one of the job's subscriber
 * slots (20 per client): this bounds how long a `curl` stopped with Ctrl-C keeps its slot
 * (to two or three of these lines: the first write after it left may still be buffered).
 */
export const TEXT_QUIET_MS = 5 * 60_000;

export function textQuietLine(now: number): string {
  return `${clock(now)} …  nothing new for ${TEXT_QUIET_MS / 60_000} minutes; still following\n`;
}

/** The last line of a stream whose job could not be reached to go on (`since` cannot be known here). */
export function textInterruptedLine(now: number): string {
  return `${clock(now)} …  lost the job's live stream; run the command again to follow it\n`;
}

/** The last line of a stream whose job was deleted or expired while it was followed. */
export function textGoneLine(now: number, reason: string | null): string {
  return `${clock(now)} …  ${reason ?? "job deleted or expired"}; nothing more to follow\n`;
}

function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}

/**
 * How long until `until`: "2.0s", "25min", "3h 20min", "3d 4h"; past an hour, with the
 * moment itself, as the lines' clock shows only the time of day ("4320min" said a 3-day nap).
 */
function waitText(until: number, at: number): string {
  const ms = until - at;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes}min`;
  const [days, hours, rest] = [Math.floor(minutes / 1440), Math.floor(minutes / 60) % 24, minutes % 60];
  const span = days > 0 ? `${days}d${hours ? ` ${hours}h` : ""}` : `${hours}h${rest ? ` ${rest}min` : ""}`;
  return `${span} (until ${new Date(until).toISOString().slice(0, 16).replace("T", " ")} UTC)`;
}

/** The first line's verb: "job … is running", "job … has succeeded". */
const STATE_PHRASES: Record<JobState, string> = {
  queued: "is queued", running: "is running", waiting: "is waiting",
  succeeded: "has succeeded", failed: "has failed", canceled: "was canceled",
};

/** Keeps the latest percent and step, which every line repeats. */
export class TextFormatter {
  #percent: number | null = null;
  #step = "-";

  /** A formatter with the columns a replay from the start has after `newestFirst`, events from the newest back. */
  static after(newestFirst: Iterable<JobEvent>): TextFormatter {
    let percent: number | undefined;
    let step: string | undefined;
    for (const event of newestFirst) {
      if (percent === undefined && event.type === "result") percent = 100;
      if (percent === undefined && event.type === "progress") percent = percentOf(event.data) ?? undefined;
      if (step === undefined && event.type === "step") step = event.data.name;
      if (percent !== undefined && step !== undefined) break;
    }
    const text = new TextFormatter();
    text.#percent = percent ?? null;
    text.#step = step ?? "-";
    return text;
  }

  /** The columns every line repeats, as a key: formatters with equal columns write the same lines. */
  get columns(): string {
    return `${this.#percent}\u0000${this.#step}`;
  }

  copy(): TextFormatter {
    const copy = new TextFormatter();
    copy.#percent = this.#percent;
    copy.#step = this.#step;
    return copy;
  }

  /**
   * The first line, in the job's current columns. When older events follow (`since` before
   * the snapshot's last), they go on from the columns this formatter had: none for a replay
   * from the start, the columns at `since` for a resume (`after`).
   */
  snapshot(snapshot: JobSnapshot, now: number, since: number): string {
    const replay = since < snapshot.lastSeq ? this.copy() : null;
    this.#percent = percentOf(snapshot.progress);
    this.#step = (snapshot.steps.current ?? snapshot.steps.recent.at(-1))?.name ?? "-";
    const progress = snapshot.progress?.message ? ` — ${snapshot.progress.message}` : "";
    const line = this.#line(now, `job ${snapshot.id} (${snapshot.type}) ${STATE_PHRASES[snapshot.state]}${progress}`);
    if (replay) {
      this.#percent = replay.#percent;
      this.#step = replay.#step;
    }
    return line;
  }

  event(event: JobEvent): string {
    return this.#line(event.at, this.#describe(event));
  }

  #describe(event: JobEvent): string {
    switch (event.type) {
      case "state":
        return `state: ${event.data.state}`;
      case "progress": {
        this.#percent = percentOf(event.data) ?? this.#percent;
        const { current, total, message } = event.data;
        const count = current !== undefined && total !== undefined ? `${current}/${total}` : "";
        return [count, message].filter(Boolean).join(" ") || "progress";
      }
      case "log":
        return `${event.data.level}: ${event.data.message}`;
      case "step":
        return this.#describeStep(event.data, event.at);
      case "result":
        this.#percent = 100;
        return `succeeded: ${JSON.stringify(event.data.result)}`;
      case "error": {
        const outcome = event.data.code === "canceled" ? "canceled" : `failed (${event.data.code})`;
        return `${outcome}: ${event.data.message}`;
      }
      case "webhook": {
        const { attempt, outcome, httpStatus, error, until } = event.data;
        // A refused delivery's error is its status ("HTTP 500"): say it once.
        const status = httpStatus === undefined ? "" : `HTTP ${httpStatus}`;
        const detail = [status, error === status ? "" : (error ?? "")].filter(Boolean).join(", ");
        return `webhook ${outcome} (attempt ${attempt}${detail ? `: ${detail}` : ""})${until === undefined ? "" : `; next in ${waitText(until, event.at)}`}`;
      }
    }
  }

  #describeStep(step: Extract<JobEvent, { type: "step" }>["data"], at: number): string {
    this.#step = step.name;
    const attempt = step.attempt > 0 ? ` (attempt ${step.attempt})` : "";
    const wait = step.until !== undefined ? ` for ${waitText(step.until, at)}` : "";
    if (step.status === "retrying") return `step failed${attempt}: ${step.error}; retrying in ${waitText(step.until!, at)}`;
    if (step.status === "failed") return `step failed${attempt}: ${step.error}`;
    if (step.status === "sleeping") return `step sleeping${wait}`;
    return `step ${step.status}${attempt}`;
  }

  #line(at: number, text: string): string {
    const percent = this.#percent === null ? "   -" : `${String(this.#percent).padStart(3)}%`;
    return `${clock(at)} ${percent}  ${terminalSafe(this.#step)}  ${terminalSafe(text)}\n`;
  }
}

const NAMED: Record<string, string> = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };

/**
 * Control characters as visible escapes: \t \n \r, \xHH for the rest of C0 and DEL, \uHHHH
 * for C1 and for the invisible characters that reorder or hide text (bidi controls,
 * zero-width characters, line and paragraph separators, the byte-order mark), and for
 * a lone surrogate, which UTF-8 cannot carry (it would arrive as U+FFFD).
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (char) => {
    const code = char.charCodeAt(0);
    return NAMED[char] ?? (code < 0x80 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`);
  });
}

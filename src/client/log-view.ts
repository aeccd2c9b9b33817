// The live log: appends each log line once (by seq), follows new lines while the reader
// is at the bottom, and offers a jump back down when they scrolled up to read.
import type { JobEvent } from "../protocol";
import { offset } from "../pages/format";
import { el } from "./dom";

type LogEvent = Extract<JobEvent, { type: "log" }>;

/** Pixels from the bottom that still count as "at the bottom". */
const STICKY_PX = 24;
/** Log lines the page keeps at most; older ones leave the page as new ones come, TRIM_LINES at a time. */
const MAX_LINES = 20_000;
const TRIM_LINES = 1_000;

export class LogView {
  #lastSeq: number;
  /** Lines taken but not shown yet (see append). */
  #waiting: LogEvent[] = [];

  constructor(
    private readonly list: HTMLOListElement,
    private readonly empty: HTMLElement,
    private readonly jump: HTMLButtonElement,
    private readonly createdAt: number,
  ) {
    // The server rendered the first lines; carry on after the last of them.
    const seqs = [...list.querySelectorAll<HTMLElement>("[data-seq]")].map((li) => Number(li.dataset.seq));
    this.#lastSeq = Math.max(0, ...seqs);
    list.addEventListener("scroll", () => {
      if (this.#atBottom()) jump.hidden = true;
    });
    jump.addEventListener("click", () => {
      this.#scrollToEnd();
      // The button hides itself: the keyboard goes on in the log it brought down, not back to the page's top.
      list.focus({ preventScroll: true });
    });
    this.#scrollToEnd();
  }

  /**
   * Appends the lines it has not shown yet, in one DOM change: a long replay must not lay out
   * the page per line. While `behind` (a replay that has not reached the job's present yet)
   * they wait here instead: each change lays out the whole list (up to MAX_LINES rows), which,
   * done for every batch of a 99,000-event replay, took the page 22 s; once caught up, only
   * the lines that stay are shown, in one change.
   */
  append(events: LogEvent[], behind = false): void {
    for (const event of events) {
      if (event.seq <= this.#lastSeq) continue;
      this.#waiting.push(event);
      this.#lastSeq = event.seq;
    }
    // Only the latest MAX_LINES can stay on the page: older ones need not wait.
    if (this.#waiting.length > 2 * MAX_LINES) this.#waiting.splice(0, this.#waiting.length - MAX_LINES);
    if (behind || this.#waiting.length === 0) return;
    const fresh = this.#waiting;
    this.#waiting = [];
    const follow = this.#atBottom();
    const lines = document.createDocumentFragment();
    // A batch longer than the page keeps builds only the lines that stay.
    for (const event of fresh.slice(-MAX_LINES)) {
      const item = el("li", `log-line level-${event.data.level}`);
      item.dataset.seq = String(event.seq);
      item.append(el("span", "log-time", offset(event.at, this.createdAt)), " ", el("span", "log-level", event.data.level), " ", el("span", "log-message", event.data.message));
      lines.append(item);
    }
    this.list.append(lines);
    this.#trim();
    this.empty.hidden = true;
    this.list.hidden = false;
    if (follow) this.#scrollToEnd();
    else this.jump.hidden = false;
  }

  /**
   * The page keeps the latest MAX_LINES or so; the whole log stays a click away (the curl
   * command, /events). Past the cap, the oldest TRIM_LINES go at once: removing lines from
   * the top restyles and lays out the whole list, which, done for every batch, held a page
   * following 50 lines a second up to 0.3 s a batch (keys answered 0.15–0.3 s late).
   */
  #trim(): void {
    const count = this.list.childElementCount;
    if (count <= MAX_LINES) return;
    const oldest = document.createRange();
    oldest.setStartBefore(this.list.firstElementChild!);
    oldest.setEndBefore(this.list.children[count - MAX_LINES + TRIM_LINES]!);
    oldest.deleteContents();
  }

  #atBottom(): boolean {
    const { scrollHeight, scrollTop, clientHeight } = this.list;
    return scrollHeight - scrollTop - clientHeight <= STICKY_PX;
  }

  #scrollToEnd(): void {
    this.list.scrollTop = this.list.scrollHeight;
    this.jump.hidden = true;
  }
}

// What a screen reader hears of a running job's log and progress. The log list is not a
// live region: a job logging 50 lines a second had it read out some ten additions a second,
// a queue that never drains and drowns everything else. Instead one polite sentence, at
// most every NEWS_MS, says what came since the last: the progress when it passed another
// tenth, and how many log lines came with the latest of them.
import { newsText } from "../pages/format";

const NEWS_MS = 5_000;

export class JobNews {
  #lines = 0;
  #latest = "";
  /** A percent in a tenth not said yet; null when there is none to say. */
  #percent: number | null = null;
  /** The tenth of progress last said (or shown when the page opened). */
  #tenth: number | null;
  #saidAt = -Infinity;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly region: HTMLElement, percent: number | null) {
    this.#tenth = tenthOf(percent);
  }

  /** Log lines that just came and the job's percent now (null once it ended: its state says so). */
  tell(lines: string[], percent: number | null): void {
    if (lines.length) {
      this.#lines += lines.length;
      this.#latest = lines.at(-1)!;
    }
    // A percent in a tenth already said is not news, nor one left unsaid when the job ended.
    this.#percent = percent !== null && tenthOf(percent) !== this.#tenth ? percent : null;
    if (!this.#lines && this.#percent === null) return;
    this.#timer ??= setTimeout(() => this.flush(), Math.max(0, this.#saidAt + NEWS_MS - Date.now()));
  }

  /** Says what is waiting now, as when the job ends and its last lines should not wait. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#lines && this.#percent === null) return;
    // Assigned even when the same: the same line twice is news twice.
    this.region.textContent = newsText(this.#percent, this.#lines, this.#latest);
    if (this.#percent !== null) this.#tenth = tenthOf(this.#percent);
    this.#lines = 0;
    this.#percent = null;
    this.#saidAt = Date.now();
  }
}

function tenthOf(percent: number | null): number | null {
  return percent === null ? null : Math.floor(percent / 10);
}

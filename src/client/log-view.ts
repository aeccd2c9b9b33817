// The live log: appends each log line once (by seq), follows new lines while the reader
// is at the bottom, and offers a jump back down when they scrolled up to read.
import type { JobEvent } from "../protocol";
import { offset } from "../pages/format";
import { el } from "./dom";

type LogEvent = Extract<JobEvent, { type: "log" }>;

/** Pixels from the bottom that still count as "at the bottom". */
const STICKY_PX = 24;

export class LogView {
  #lastSeq: number;

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
    jump.addEventListener("click", () => this.#scrollToEnd());
    this.#scrollToEnd();
  }

  append(event: LogEvent): void {
    if (event.seq <= this.#lastSeq) return;
    this.#lastSeq = event.seq;
    const follow = this.#atBottom();
    const item = el("li", `log-line level-${event.data.level}`);
    item.dataset.seq = String(event.seq);
    item.append(el("span", "log-time", offset(event.at, this.createdAt)), " ", el("span", "log-level", event.data.level), " ", el("span", "log-message", event.data.message));
    this.list.append(item);
    this.empty.hidden = true;
    this.list.hidden = false;
    if (follow) this.#scrollToEnd();
    else this.jump.hidden = false;
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

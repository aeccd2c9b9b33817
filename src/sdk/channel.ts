// A queue between a push source (socket messages) and a pull consumer (for await).
export class Channel<T> implements AsyncIterableIterator<T> {
  /** Aborted when the consumer stops early (`break`, `return` or a throw out of `for await`). */
  readonly #returned = new AbortController();
  readonly returned: AbortSignal = this.#returned.signal;
  #items: T[] = [];
  #waiting: ((result: IteratorResult<T>) => void) | null = null;
  #failed: ((error: unknown) => void) | null = null;
  #error: unknown = null;
  #closed = false;
  /** Items pushed, and handed to the consumer; who waits for the consumer to take a count of them. */
  #pushed = 0;
  #taken = 0;
  #takers: { count: number; resolve: () => void }[] = [];

  push(item: T): void {
    if (this.#closed) return;
    this.#pushed++;
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#waiting = this.#failed = null;
      this.#took();
      resolve({ value: item, done: false });
    } else this.#items.push(item);
  }

  /**
   * Resolves once the consumer has taken every item pushed so far: the moment a source may
   * read on, so that a consumer that stops reading holds the source back rather than a
   * queue growing without end.
   */
  taken(): Promise<void> {
    const count = this.#pushed;
    if (this.#taken >= count) return Promise.resolve();
    return new Promise((resolve) => this.#takers.push({ count, resolve }));
  }

  #took(): void {
    this.#taken++;
    while (this.#takers.length && this.#takers[0]!.count <= this.#taken) this.#takers.shift()!.resolve();
  }

  close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    // Nothing more will be taken: a source waiting for that goes on, to find itself stopped.
    for (const taker of this.#takers.splice(0)) taker.resolve();
    this.#error = error ?? null;
    if (this.#waiting) {
      const [resolve, reject] = [this.#waiting, this.#failed!];
      this.#waiting = this.#failed = null;
      if (error) reject(error);
      else resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length) {
      this.#took();
      return Promise.resolve({ value: this.#items.shift()!, done: false });
    }
    if (this.#closed) return this.#error ? Promise.reject(this.#error) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      this.#failed = reject;
    });
  }

  /** The consumer is done: what is queued is dropped, and the source is told to stop. */
  return(): Promise<IteratorResult<T>> {
    this.#items = [];
    this.close();
    this.#returned.abort();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

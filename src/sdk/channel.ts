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

  push(item: T): void {
    if (this.#closed) return;
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#waiting = this.#failed = null;
      resolve({ value: item, done: false });
    } else this.#items.push(item);
  }

  close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error ?? null;
    if (this.#waiting) {
      const [resolve, reject] = [this.#waiting, this.#failed!];
      this.#waiting = this.#failed = null;
      if (error) reject(error);
      else resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
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

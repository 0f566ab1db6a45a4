// A counter: one float64, in a registry's shared memory (store.ts) or its own.

/** A monotonically increasing count: a slot of a registry's shared memory, or its own. */
export class Counter {
  #page: Float64Array<ArrayBufferLike>;
  #i: number;

  constructor(page: Float64Array<ArrayBufferLike> = new Float64Array(1), index = 0) {
    this.#page = page;
    this.#i = index;
  }

  get value(): number {
    return this.#page[this.#i]!;
  }

  incr(n = 1): void {
    this.#page[this.#i]! += n;
  }

  /** Moves the count out of the registry's memory (see Histogram.detach). */
  detach(): void {
    this.#page = new Float64Array([this.value]);
    this.#i = 0;
  }
}

// Gauges kept up to date where their values change, so that a scrape reads nothing on the event
// loop for them. A Gauge is one float64 in a registry's shared memory (store.ts), or its own,
// set by its owner; a SumGauge is the sum of some such values (a client's connections, over the
// endpoints it shares with other clients), added up by whoever exports it: the export thread
// reads the values' slots itself.

/** A value its owner sets as it changes: a slot of a registry's shared memory, or its own. */
export class Gauge {
  #page: Float64Array<ArrayBufferLike>;
  #i: number;
  #slot: number;

  /** `slot` is the store's name for `page[index]`; -1 for memory of its own. */
  constructor(page: Float64Array<ArrayBufferLike> = new Float64Array(1), index = 0, slot = -1) {
    this.#page = page;
    this.#i = index;
    this.#slot = slot;
  }

  get value(): number {
    return this.#page[this.#i]!;
  }

  /** Its slot in the registry's store; -1 once in memory of its own. */
  get slot(): number {
    return this.#slot;
  }

  set(v: number): void {
    this.#page[this.#i] = v;
  }

  add(d: number): void {
    this.#page[this.#i]! += d;
  }

  /** Moves the value out of the registry's memory: its slot may be another metric's from now. */
  detach(): void {
    this.#page = new Float64Array([this.value]);
    this.#i = 0;
    this.#slot = -1;
  }
}

/** The sum of some gauges' values, the set of them changing now and then. */
export class SumGauge {
  #parts: readonly Gauge[] = [];
  /** Told the parts' slots when they change, while the sum is in a registry's tree. */
  #tell: ((slots: number[]) => void) | undefined;

  get value(): number {
    let sum = 0;
    for (const g of this.#parts) sum += g.value;
    return sum;
  }

  /** The slots of the parts, for an export in another thread. */
  slots(): number[] {
    return this.#parts.map((g) => g.slot);
  }

  /** From now on, the sum of `parts`. */
  over(parts: readonly Gauge[]): void {
    this.#parts = parts;
    this.#tell?.(this.slots());
  }

  /** Who is told when the parts change (the registry holding it); undefined once it has left. */
  tell(to: ((slots: number[]) => void) | undefined): void {
    this.#tell = to;
  }
}

// Gauges that are functions of the main thread's objects (a cache's size, a budget's balance):
// the export thread cannot call them, so before a threaded export the main thread writes each
// one's value to its slot, a slice at a time with the event loop let go in between. Gauges set
// where they change, and sums of such values (gauge.ts), are not here: the thread reads their
// slots itself, and they cost a threaded scrape nothing on the event loop.

import type { MetricStore } from './store.ts';

/** A gauge as the export writes it: its function, and its slot's page and index. */
interface Cell {
  readonly read: () => number;
  readonly page: Float64Array<ArrayBufferLike>;
  readonly index: number;
  /** False once the gauge has left the tree (its slot may be another metric's). */
  live: boolean;
}

export class CalledGauges {
  readonly #cells = new Map<object, Cell>();
  /** The cells as one array, made again when gauges come or go. */
  #list: Cell[] | undefined;
  /** Reads under way, and the gauges made since the first of them began. */
  #reading = 0;
  #fresh: Cell[] = [];
  /** The list the last whole read wrote, and when it began (performance.now()). */
  #readList: Cell[] | undefined;
  #readAt = Number.NEGATIVE_INFINITY;

  get size(): number {
    return this.#cells.size;
  }

  /** Gauge `key` (its metric) is `read`, its value to go to `slot` of `store`. */
  add(key: object, read: () => number, store: MetricStore, slot: number): void {
    const { page, index } = store.locate(slot);
    const cell: Cell = { read, page, index, live: true };
    this.#cells.set(key, cell);
    this.#list = undefined;
    if (this.#reading > 0) this.#fresh.push(cell);
  }

  /** Gauge `key` has left the tree: its slot is not written again. */
  remove(key: object): void {
    const cell = this.#cells.get(key);
    if (cell === undefined) return;
    cell.live = false;
    this.#cells.delete(key);
    this.#list = undefined;
  }

  /**
   * Writes each gauge's value to its slot, `slice` gauges at a time with `pause` awaited in
   * between. Not again within `maxAgeMs` of the last whole read while the gauges are the same
   * ones: scrapes that come together (a dashboard's and Prometheus's, two Prometheus replicas,
   * the JSON and the Prometheus text one after the other) then read them once.
   */
  async publish(slice: number, pause: () => Promise<void>, maxAgeMs = 0): Promise<void> {
    const all = (this.#list ??= [...this.#cells.values()]);
    if (all === this.#readList && this.#reading === 0 && performance.now() - this.#readAt < maxAgeMs) return;
    // The age of a read is that of its first values: a read under load spans many turns.
    const startedAt = performance.now();
    this.#reading++;
    try {
      for (let i = 0; i < all.length; i += slice) {
        if (i > 0) await pause();
        const end = Math.min(all.length, i + slice);
        for (let j = i; j < end; j++) {
          const g = all[j]!;
          // A gauge removed meanwhile has its slot freed (maybe taken by another metric): not written.
          if (g.live) g.page[g.index] = g.read();
        }
      }
    } finally {
      this.#reading--;
    }
    // Gauges made during the pauses are in no list read: written now, before the export that
    // will print them.
    for (const g of this.#fresh) if (g.live) g.page[g.index] = g.read();
    if (this.#reading === 0) this.#fresh = [];
    // Gauges added or removed meanwhile: the next read is a whole one.
    if (this.#list === all) {
      this.#readList = all;
      this.#readAt = startedAt;
    }
  }
}

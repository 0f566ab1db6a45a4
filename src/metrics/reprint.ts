// A scrape of a large tree is mostly the text of the last one: between two scrapes most
// clients and services record nothing, and most of a busy one's metrics (failures, retries,
// pool sizes) stay as they were. An exporter that keeps its last full text in one buffer
// writes only the metrics whose value or stamp moved, and copies the rest from there, in runs
// as long as the unchanged metrics next to each other.
//
// What it keeps of each metric (where its text was, how long, the value or stamp it was
// written for) is in typed arrays indexed by the metric's slot in the store, and a metric's
// value or stamp is read from the store by slot too. A scrape then walks a few dense arrays
// instead of tens of thousands of objects spread over the heap: an idle export of 1,000
// clients and services went from 4.8 to 1.5 ms (bench/RESULTS.md), and reading values through
// each metric's objects instead brought it back to about 4 ms.

import { ByteSink } from './bytes.ts';
import { stampInStore } from './histogram.ts';
import type { Metric, MetricsRegistry } from './metrics.ts';

/** How a metric's value or stamp is read: from its slot, as a histogram's stamp, or by calling it. */
const SCALAR = 0;
const HISTOGRAM = 1;
const CALLED = 2;

/** A place that names no text (never written, or written where it cannot be copied). */
const NOWHERE = -1;

/**
 * What is kept of each metric of the last text, by slot (the metric the place is for, where its
 * text starts, how long it is, the value or stamp it was written for), and the slot and kind of
 * each metric of the sorted array the export walks.
 */
class Places {
  /** The metrics `slots` and `kinds` were made for (the registry's sorted array). */
  ms: readonly Metric[] | undefined;
  slots = new Int32Array(0);
  kinds = new Uint8Array(0);
  owner: (Metric | undefined)[] = [];
  at = new Int32Array(0);
  len = new Int32Array(0);
  stamp = new Float64Array(0);

  /** The slot and kind of each of `ms`; places dropped where a slot has a new metric. */
  index(ms: readonly Metric[], copy: boolean): void {
    this.ms = ms;
    if (this.slots.length < ms.length) {
      this.slots = new Int32Array(ms.length + (ms.length >> 2));
      this.kinds = new Uint8Array(this.slots.length);
    }
    let top = 0;
    for (const m of ms) top = Math.max(top, m.slot + 1);
    if (top > this.at.length) this.#grow(top + (top >> 2));
    // Owners made afresh: a metric that left is not kept alive by its old place.
    const was = this.owner;
    const owner: (Metric | undefined)[] = new Array<Metric | undefined>(this.at.length).fill(undefined);
    for (let i = 0; i < ms.length; i++) {
      const m = ms[i]!;
      const s = m.slot;
      this.slots[i] = s;
      // A copy's gauges are in the store (set as they change, or written before each export),
      // but for sums, added up here; a registry's own are read.
      this.kinds[i] = m.kind === 'histogram' ? HISTOGRAM : m.kind === 'gauge' && (!copy || m.sources !== undefined) ? CALLED : SCALAR;
      owner[s] = m;
      if (was[s] !== m) {
        this.at[s] = NOWHERE;
        this.stamp[s] = Number.NaN;
      }
    }
    this.owner = owner;
  }

  #grow(n: number): void {
    const at = new Int32Array(n).fill(NOWHERE);
    at.set(this.at);
    const len = new Int32Array(n);
    len.set(this.len);
    const stamp = new Float64Array(n);
    stamp.set(this.stamp);
    this.at = at;
    this.len = len;
    this.stamp = stamp;
  }

  /** No text to copy from. */
  forget(): void {
    this.at.fill(NOWHERE);
  }
}

/**
 * One format's last full text (of one registry), and the buffer the next one is written in.
 * Two pages, then, each as long as the text: the memory this saves the CPU.
 */
class LastText {
  readonly #registry: MetricsRegistry;
  readonly #places = new Places();
  /** The last export's text: its first `#length` bytes. */
  #prev: Buffer | undefined;
  #length = 0;
  /** What the text depends on besides the metrics (the Prometheus prefix). */
  #key = '';
  #spare: Buffer | undefined;
  #busy = false;

  constructor(registry: MetricsRegistry) {
    this.#registry = registry;
  }

  /**
   * Starts an export of `ms` (the registry's sorted metrics) that writes to `out`, copying
   * from the last one when it was made for the same `key`; undefined while another export of
   * this format is under way (an export on the event loop, written in slices): that one then
   * writes everything itself.
   */
  begin(ms: readonly Metric[], key: string, out: (chunk: Buffer) => void): Reprint | undefined {
    if (this.#busy) return undefined;
    this.#busy = true;
    if (key !== this.#key) this.#forget();
    this.#key = key;
    if (ms !== this.#places.ms) this.#places.index(ms, this.#registry.copy);
    // The next text is about as long as the last one: a page that size, the spare if it is.
    const want = this.#length + (this.#length >> 3);
    const page = this.#spare !== undefined && this.#spare.length >= want ? this.#spare : Buffer.allocUnsafeSlow(Math.max(want, 1));
    this.#spare = undefined;
    // Nothing freed from now is given to another metric until this export is done: a slot
    // read here is the metric's own.
    this.#registry.store.hold();
    return new Reprint(this, new ByteSink(out, page), this.#prev, this.#places, this.#registry);
  }

  #forget(): void {
    this.#prev = undefined;
    this.#length = 0;
    this.#places.forget();
  }

  /** The export that began is done: its text is the one to copy from next. */
  done(r: Reprint): void {
    this.#spare = this.#prev;
    this.#prev = r.sink.page;
    this.#length = r.sink.position;
    this.#end();
  }

  /**
   * The export that began failed part way: its places name a text thrown away, so the next
   * export writes everything.
   */
  failed(r: Reprint): void {
    this.#spare = r.sink.page;
    this.#forget();
    this.#end();
  }

  #end(): void {
    this.#busy = false;
    this.#registry.store.unhold();
  }
}

/** One export under way: the sink it writes to, and the run of unchanged text not copied yet. */
export class Reprint {
  readonly sink: ByteSink;
  /** `ms[i]`'s slot, and how its value or stamp is read. */
  readonly slots: Int32Array;
  readonly kinds: Uint8Array;
  readonly #last: LastText;
  readonly #prev: Buffer | undefined;
  readonly #at: Int32Array;
  readonly #len: Int32Array;
  readonly #stamps: Float64Array;
  readonly #registry: MetricsRegistry;
  #from = -1;
  #to = -1;

  constructor(last: LastText, sink: ByteSink, prev: Buffer | undefined, places: Places, registry: MetricsRegistry) {
    this.#last = last;
    this.sink = sink;
    this.#prev = prev;
    // The arrays stay as they are for the export (they grow only as one begins).
    this.slots = places.slots;
    this.kinds = places.kinds;
    this.#at = places.at;
    this.#len = places.len;
    this.#stamps = places.stamp;
    this.#registry = registry;
  }

  /** The value (a counter's or a gauge's) or stamp (a histogram's) of `ms[i]`, `m`. */
  stampOf(i: number, m: Metric): number {
    const k = this.kinds[i]!;
    if (k === SCALAR) return this.#registry.store.read(this.slots[i]!);
    if (k === HISTOGRAM) return stampInStore(this.#registry.store, this.slots[i]!, this.#registry.window.epoch, this.#registry.window.slices);
    return m.kind === 'gauge' ? m.read() : 0;
  }

  /**
   * Whether the metric in `slot`, now `stamp`, has text in the last export to copy; if so it
   * joins the run to copy, and its place moves to where the text goes in this one.
   */
  keep(slot: number, stamp: number): boolean {
    const at = this.#at[slot]!;
    if (at < 0 || this.#stamps[slot] !== stamp || this.#prev === undefined) return false;
    if (at !== this.#to) {
      this.flush();
      this.#from = at;
    }
    this.#to = at + this.#len[slot]!;
    // The run goes where the sink is now.
    this.#at[slot] = this.sink.position + (at - this.#from);
    return true;
  }

  /** Copies the run; called before anything is written afresh. */
  flush(): void {
    if (this.#to > this.#from) this.sink.copy(this.#prev!, this.#from, this.#to);
    this.#from = -1;
    this.#to = -1;
  }

  /**
   * Notes where `ms[i]`, written afresh from `at` for `stamp`, is; `copyable` false for text
   * that must not be copied.
   *
   * A histogram's text is copied only if its stamp was already this one at the export before.
   * Another thread records into it meanwhile, and a read may land inside a value being added:
   * the numbers read are then part old, part new. Such text is written again at the next
   * export (the stamp has moved by then, or the read it was written from cannot be trusted).
   */
  wrote(i: number, at: number, stamp: number, copyable = true): void {
    const slot = this.slots[i]!;
    const settled = this.kinds[i] !== HISTOGRAM || this.#stamps[slot] === stamp;
    this.#at[slot] = copyable && settled ? at : NOWHERE;
    this.#len[slot] = this.sink.position - at;
    this.#stamps[slot] = stamp;
  }

  /** Hands out the rest and keeps the text for the next export. */
  end(): void {
    this.flush();
    this.sink.finish();
    this.#last.done(this);
  }

  /** The export stopped part way. */
  abandon(): void {
    this.#last.failed(this);
  }
}

/** Each registry's last whole text, per format. */
const LAST = new WeakMap<MetricsRegistry, Map<string, LastText>>();

/**
 * A streamed export's sink, and its reprint when it copies from the last whole export of
 * `format` (`whole` false, as for a scope of the JSON tree, writes everything).
 */
export class Export {
  readonly sink: ByteSink;
  readonly r: Reprint | undefined;

  constructor(registry: MetricsRegistry, format: string, whole: boolean, ms: readonly Metric[], key: string, out: (chunk: Buffer) => void) {
    let r: Reprint | undefined;
    if (whole) {
      let formats = LAST.get(registry);
      if (formats === undefined) LAST.set(registry, (formats = new Map()));
      let last = formats.get(format);
      if (last === undefined) formats.set(format, (last = new LastText(registry)));
      r = last.begin(ms, key, out);
    }
    this.r = r;
    this.sink = r?.sink ?? new ByteSink(out);
  }

  /** Writes with `write`, then hands out the rest; a failure leaves the last text to copy from. */
  run(write: () => void): void {
    try {
      write();
      this.#end();
    } catch (e) {
      this.r?.abandon();
      throw e;
    }
  }

  /** The same for a write that lets the event loop go between slices. */
  async runSliced(write: () => Promise<void>): Promise<void> {
    try {
      await write();
      this.#end();
    } catch (e) {
      this.r?.abandon();
      throw e;
    }
  }

  #end(): void {
    if (this.r === undefined) this.sink.finish();
    else this.r.end();
  }
}

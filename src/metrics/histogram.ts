// Latency histograms over a sliding window. linkerd snapshots its histograms every minute, so
// the percentiles it exports describe the last minute; dtabd keeps the minute as six slices of
// ten seconds and exports the sum of the live ones, so a value reaches the export at once and
// leaves it a minute later. Recording is a bucket increment into typed arrays taken at the
// first value: nothing is allocated per request.

import { type Block, blockSize, type MetricStore } from './store.ts';

/** Bucket bounds: 1, 2, ... 10, then about 10 % apart up to an hour (Finagle-like precision). */
const BOUNDS: number[] = (() => {
  const out: number[] = [];
  for (let v = 1; v <= 10; v++) out.push(v);
  let v = 10;
  while (v < 3_600_000) {
    v = Math.ceil(v * 1.1);
    out.push(v);
  }
  return out;
})();
const NB = BOUNDS.length;

function bucketOf(v: number): number {
  // Binary search for the first bound >= v.
  let lo = 0;
  let hi = NB - 1;
  if (v >= BOUNDS[hi]!) return hi;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (BOUNDS[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface HistogramSnapshot {
  readonly count: number;
  readonly sum: number;
  readonly avg: number;
  readonly min: number;
  readonly max: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly p9990: number;
  readonly p9999: number;
}

/**
 * The clock the histograms of one registry share: `epoch` moves on by one every slice, and
 * each histogram clears the slices that fell out of its window when it next records. The
 * epoch lives in shared memory, so the export thread reads the same clock.
 */
export class HistogramWindow {
  readonly slices: number;
  readonly sliceMs: number;
  /** An int32: the epoch stays a small integer, and `% slices` stays integer arithmetic. */
  readonly #cell: Int32Array;
  #timer: NodeJS.Timeout | undefined;

  /**
   * `windowMs` split in `slices`; `tick: false` leaves moving the clock to the caller (tests,
   * and the export thread, which reads the clock of `memory`).
   */
  constructor(windowMs = 60_000, slices = 6, tick = true, memory = new SharedArrayBuffer(8)) {
    this.slices = slices;
    this.sliceMs = windowMs / slices;
    this.#cell = new Int32Array(memory, 0, 1);
    if (tick) {
      this.#timer = setInterval(() => this.advance(), this.sliceMs);
      this.#timer.unref();
    }
  }

  get epoch(): number {
    return this.#cell[0]!;
  }

  /** Where the epoch is kept, for a thread that reads this clock. */
  get memory(): SharedArrayBuffer {
    return this.#cell.buffer as SharedArrayBuffer;
  }

  advance(n = 1): void {
    this.#cell[0]! += n;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

/** A process-wide clock for histograms made outside a registry. */
let shared: HistogramWindow | undefined;

/** Buckets per slice (store.ts sizes blocks with it). */
export const BUCKETS = NB;

// A block's float64s, from its start: the epoch of its current slice, its stamp, then per
// slice count, sum, min and max. Its uint32s: bucket counts slice after slice, then the live
// slices' totals.
const EPOCH = 0;
const STAMP = 1;
const SLICES = 2;
const COUNT = 0;
const SUM = 1;
const MIN = 2;
const MAX = 3;

/** The slice epoch `e` is kept in (epochs before the first are never live, but may be asked). */
function sliceOf(e: number, n: number): number {
  return ((e % n) + n) % n;
}

/**
 * A histogram's stamp from its block's float64s at `fo` (n slices, the clock at `epoch`): it
 * moves with every value, and with every slice that leaves the window.
 */
function blockStamp(f: Float64Array, fo: number, epoch: number, n: number): number {
  const g = epoch - f[fo + EPOCH]!;
  return f[fo + STAMP]! * (n + 1) + (g <= 0 ? 0 : Math.min(n, g));
}

/** The stamp of the histogram whose handle is in `slot` of `store` (0 before its first value). */
export function stampInStore(store: MetricStore, slot: number, epoch: number, n: number): number {
  const handle = store.read(slot);
  if (handle <= 0) return 0;
  const f = store.blockFloats(handle - 1);
  return f === undefined ? 0 : blockStamp(f, store.blockFloatOffset(handle - 1), epoch, n);
}

/** The live slices' totals when some slices are out of the window but not cleared yet. */
const SCRATCH = new Uint32Array(NB);

/**
 * A distribution of non-negative values (latencies in ms, retries per request) over the window.
 * Its numbers are a block (store.ts) taken at the first value: in a registry's shared memory,
 * or of its own outside one. Reading never changes the block, so another thread may read it.
 */
export class Histogram {
  readonly #window: HistogramWindow;
  readonly #n: number;
  #f: Float64Array | undefined;
  #fo = 0;
  #u: Uint32Array | undefined;
  #uo = 0;
  /** Where the block comes from at the first value (a registry's store); its own otherwise. */
  #alloc: (() => Block) | undefined;
  /** A reader's way to the block another thread takes. */
  #find: (() => Block | undefined) | undefined;

  constructor(window: HistogramWindow = (shared ??= new HistogramWindow()), alloc?: () => Block) {
    this.#window = window;
    this.#n = window.slices;
    this.#alloc = alloc;
  }

  /** A histogram that only reads the block `find` gives once another thread has taken it. */
  static reading(window: HistogramWindow, find: () => Block | undefined): Histogram {
    const h = new Histogram(window);
    h.#find = find;
    return h;
  }

  add(v: number): void {
    const x = v < 0 || Number.isNaN(v) ? 0 : v;
    let f = this.#f;
    if (f === undefined) f = this.#take();
    const fo = this.#fo;
    const now = this.#window.epoch;
    if (f[fo + EPOCH] !== now) this.#catchUp(now);
    const n = this.#n;
    const slice = now % n;
    const b = bucketOf(x);
    const u = this.#u!;
    const uo = this.#uo;
    u[uo + slice * NB + b]!++;
    u[uo + n * NB + b]!++;
    const o = fo + SLICES + slice * 4;
    f[o + COUNT]!++;
    f[o + SUM]! += x;
    if (x < f[o + MIN]!) f[o + MIN] = x;
    if (x > f[o + MAX]!) f[o + MAX] = x;
    // Last: a reader that sees the new stamp finds the numbers it stands for (exporters also
    // copy a histogram's text only once its stamp held across two exports, see reprint.ts).
    f[fo + STAMP]!++;
  }

  /** Takes a block and clears it. */
  #take(): Float64Array {
    const size = blockSize(this.#n, NB);
    const b = this.#alloc?.() ?? { f: new Float64Array(size.f64), fo: 0, u: new Uint32Array(size.u32), uo: 0 };
    this.#f = b.f;
    this.#fo = b.fo;
    this.#u = b.u;
    this.#uo = b.uo;
    b.u.fill(0, b.uo, b.uo + size.u32);
    b.f[b.fo + STAMP] = 0;
    for (let s = 0; s < this.#n; s++) this.#clearStats(s);
    b.f[b.fo + EPOCH] = this.#window.epoch;
    return b.f;
  }

  #clearStats(slice: number): void {
    const o = this.#fo + SLICES + slice * 4;
    const f = this.#f!;
    f[o + COUNT] = 0;
    f[o + SUM] = 0;
    f[o + MIN] = Infinity;
    f[o + MAX] = 0;
  }

  /** Clears the slices the clock has moved past since this histogram last recorded. */
  #catchUp(now: number): void {
    const n = this.#n;
    const f = this.#f!;
    const u = this.#u!;
    const last = f[this.#fo + EPOCH]! | 0;
    const gone = Math.min(n, now - last);
    for (let i = 1; i <= gone; i++) {
      const slice = (last + i) % n;
      const o = this.#uo + slice * NB;
      if (f[this.#fo + SLICES + slice * 4 + COUNT]! > 0) {
        const t = this.#uo + n * NB;
        for (let b = 0; b < NB; b++) u[t + b]! -= u[o + b]!;
        f[this.#fo + STAMP]!++;
      }
      u.fill(0, o, o + NB);
      this.#clearStats(slice);
    }
    f[this.#fo + EPOCH] = now;
  }

  /** Whether there is a block to read (a reader looks for the one another thread took). */
  #readable(): boolean {
    if (this.#f !== undefined) return true;
    const b = this.#find?.();
    if (b === undefined) return false;
    this.#f = b.f;
    this.#fo = b.fo;
    this.#u = b.u;
    this.#uo = b.uo;
    return true;
  }

  /** Slices that left the window since the last value, not cleared yet (0 to n). */
  #gone(): number {
    const g = this.#window.epoch - this.#f![this.#fo + EPOCH]!;
    return g <= 0 ? 0 : Math.min(this.#n, g);
  }

  /** Changes when the snapshot may have: an exporter that kept the last one's text can reuse it. */
  get stamp(): number {
    if (!this.#readable()) return 0;
    return blockStamp(this.#f!, this.#fo, this.#window.epoch, this.#n);
  }

  /** Observations in the window. */
  get count(): number {
    return this.snapshot().count;
  }

  /**
   * The live slices' bucket totals: the kept ones when no slice has left the window since the
   * last value, else added up again (into a scratch array: the block stays as it is).
   */
  #totals(gone: number): { t: Uint32Array; to: number } {
    const n = this.#n;
    if (gone === 0) return { t: this.#u!, to: this.#uo + n * NB };
    SCRATCH.fill(0);
    const last = this.#f![this.#fo + EPOCH]! | 0;
    for (let k = 0; k < n - gone; k++) {
      const o = this.#uo + sliceOf(last - k, n) * NB;
      for (let b = 0; b < NB; b++) SCRATCH[b]! += this.#u![o + b]!;
    }
    return { t: SCRATCH, to: 0 };
  }

  /** The window's statistics, in `into` when given (an exporter's one object, reused). */
  snapshot(into?: MutableSnapshot): HistogramSnapshot {
    if (!this.#readable()) return empty(into);
    const f = this.#f!;
    const n = this.#n;
    const gone = this.#gone();
    const last = f[this.#fo + EPOCH]! | 0;
    let count = 0;
    let sum = 0;
    let min = Infinity;
    let max = 0;
    for (let k = 0; k < n - gone; k++) {
      const o = this.#fo + SLICES + sliceOf(last - k, n) * 4;
      count += f[o + COUNT]!;
      sum += f[o + SUM]!;
      if (f[o + MIN]! < min) min = f[o + MIN]!;
      if (f[o + MAX]! > max) max = f[o + MAX]!;
    }
    if (count === 0) return empty(into);
    const { t, to } = this.#totals(gone);
    // One pass over the buckets for every quantile, in increasing order.
    const out = QUANTILE_OUT;
    out.fill(max);
    let qi = 0;
    let rank = Math.ceil(QUANTILES[0]! * count);
    let seen = 0;
    for (let b = 0; b < NB && qi < QUANTILES.length; b++) {
      seen += t[to + b]!;
      while (qi < QUANTILES.length && seen >= rank) {
        out[qi] = Math.min(BOUNDS[b]!, max);
        qi++;
        if (qi < QUANTILES.length) rank = Math.ceil(QUANTILES[qi]! * count);
      }
    }
    const r: MutableSnapshot = into ?? { ...EMPTY };
    r.count = count;
    r.sum = sum;
    r.avg = sum / count;
    r.min = min;
    r.max = max;
    r.p50 = out[0]!;
    r.p90 = out[1]!;
    r.p95 = out[2]!;
    r.p99 = out[3]!;
    r.p9990 = out[4]!;
    r.p9999 = out[5]!;
    return r;
  }

  /** The value under which a share `q` of the window's observations fall (a bucket's upper bound). */
  quantile(q: number): number {
    const s = this.snapshot();
    if (s.count === 0) return 0;
    const { t, to } = this.#totals(this.#gone());
    const rank = Math.ceil(q * s.count);
    let seen = 0;
    for (let b = 0; b < NB; b++) {
      seen += t[to + b]!;
      if (seen >= rank) return Math.min(BOUNDS[b]!, s.max);
    }
    return s.max;
  }

  /**
   * Moves the numbers out of the registry's memory into the histogram's own: the registry
   * gives the block to another metric, and a holder that records late changes only this one.
   */
  detach(): void {
    this.#alloc = undefined;
    this.#find = undefined;
    if (this.#f === undefined) return;
    const size = blockSize(this.#n, NB);
    this.#f = this.#f.slice(this.#fo, this.#fo + size.f64);
    this.#u = this.#u!.slice(this.#uo, this.#uo + size.u32);
    this.#fo = 0;
    this.#uo = 0;
  }
}

const QUANTILES = [0.5, 0.9, 0.95, 0.99, 0.999, 0.9999];
const QUANTILE_OUT = new Float64Array(QUANTILES.length);

/** A snapshot an exporter fills again for each histogram, allocating nothing. */
export type MutableSnapshot = { -readonly [K in keyof HistogramSnapshot]: HistogramSnapshot[K] };

function empty(into: MutableSnapshot | undefined): HistogramSnapshot {
  return into === undefined ? EMPTY : Object.assign(into, EMPTY);
}

const EMPTY: HistogramSnapshot = { count: 0, sum: 0, avg: 0, min: 0, max: 0, p50: 0, p90: 0, p95: 0, p99: 0, p9990: 0, p9999: 0 };

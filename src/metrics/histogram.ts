// Latency histograms over a sliding window. linkerd snapshots its histograms every minute, so
// the percentiles it exports describe the last minute; dtabd keeps the minute as six slices of
// ten seconds and exports the sum of the live ones, so a value reaches the export at once and
// leaves it a minute later. Recording is a bucket increment into typed arrays made at the
// first value: nothing is allocated per request.

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
 * each histogram clears the slices that fell out of its window when it next sees it move.
 */
export class HistogramWindow {
  epoch = 0;
  readonly slices: number;
  readonly sliceMs: number;
  #timer: NodeJS.Timeout | undefined;

  /** `windowMs` split in `slices`; `tick: false` leaves moving the clock to the caller (tests). */
  constructor(windowMs = 60_000, slices = 6, tick = true) {
    this.slices = slices;
    this.sliceMs = windowMs / slices;
    if (tick) {
      this.#timer = setInterval(() => this.advance(), this.sliceMs);
      this.#timer.unref();
    }
  }

  advance(n = 1): void {
    this.epoch += n;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

/** A process-wide clock for histograms made outside a registry. */
let shared: HistogramWindow | undefined;

// Per slice: count, sum, min, max.
const COUNT = 0;
const SUM = 1;
const MIN = 2;
const MAX = 3;

/** A distribution of non-negative values (latencies in ms, retries per request) over the window. */
export class Histogram {
  readonly #window: HistogramWindow;
  /** Bucket counts, slice after slice; made at the first value. */
  #counts: Uint32Array | undefined;
  /** The live slices' bucket counts added up, kept as values come and slices go. */
  #total: Uint32Array | undefined;
  #stats: Float64Array | undefined;
  /** The epoch the current slice belongs to. */
  #epoch: number;
  /** Moves on with every value and every slice that leaves the window with values in it. */
  #stamp = 0;

  constructor(window: HistogramWindow = (shared ??= new HistogramWindow())) {
    this.#window = window;
    this.#epoch = window.epoch;
  }

  add(v: number): void {
    const x = v < 0 || Number.isNaN(v) ? 0 : v;
    if (this.#counts === undefined) {
      this.#counts = new Uint32Array(NB * this.#window.slices);
      this.#total = new Uint32Array(NB);
      this.#stats = new Float64Array(4 * this.#window.slices);
      for (let s = 0; s < this.#window.slices; s++) this.#clear(s);
      this.#epoch = this.#window.epoch;
    } else if (this.#epoch !== this.#window.epoch) this.#catchUp();
    this.#stamp++;
    const slice = this.#epoch % this.#window.slices;
    const b = bucketOf(x);
    this.#counts[slice * NB + b]!++;
    this.#total![b]!++;
    const st = this.#stats!;
    const o = slice * 4;
    st[o + COUNT]!++;
    st[o + SUM]! += x;
    if (x < st[o + MIN]!) st[o + MIN] = x;
    if (x > st[o + MAX]!) st[o + MAX] = x;
  }

  #clear(slice: number): void {
    const counts = this.#counts!;
    const total = this.#total!;
    const o = slice * NB;
    if (this.#stats![slice * 4 + COUNT]! > 0) {
      for (let b = 0; b < NB; b++) total[b]! -= counts[o + b]!;
      this.#stamp++;
    }
    counts.fill(0, o, o + NB);
    const so = slice * 4;
    const st = this.#stats!;
    st[so + COUNT] = 0;
    st[so + SUM] = 0;
    st[so + MIN] = Infinity;
    st[so + MAX] = 0;
  }

  /** Clears the slices the clock has moved past since this histogram last looked. */
  #catchUp(): void {
    const n = this.#window.slices;
    const gone = Math.min(n, this.#window.epoch - this.#epoch);
    for (let i = 1; i <= gone; i++) this.#clear((this.#epoch + i) % n);
    this.#epoch = this.#window.epoch;
  }

  /** Changes when the snapshot may have: an exporter that kept the last one's text can reuse it. */
  get stamp(): number {
    if (this.#counts !== undefined && this.#epoch !== this.#window.epoch) this.#catchUp();
    return this.#stamp;
  }

  /** Observations in the window. */
  get count(): number {
    return this.snapshot().count;
  }

  /** The window's statistics, in `into` when given (an exporter's one object, reused). */
  snapshot(into?: MutableSnapshot): HistogramSnapshot {
    const total = this.#total;
    const st = this.#stats;
    if (total === undefined || st === undefined) return empty(into);
    if (this.#epoch !== this.#window.epoch) this.#catchUp();
    const n = this.#window.slices;
    let count = 0;
    let sum = 0;
    let min = Infinity;
    let max = 0;
    for (let s = 0; s < n; s++) {
      const o = s * 4;
      count += st[o + COUNT]!;
      sum += st[o + SUM]!;
      if (st[o + MIN]! < min) min = st[o + MIN]!;
      if (st[o + MAX]! > max) max = st[o + MAX]!;
    }
    if (count === 0) return empty(into);
    // One pass over the buckets for every quantile, in increasing order.
    const out = QUANTILE_OUT;
    out.fill(max);
    let qi = 0;
    let rank = Math.ceil(QUANTILES[0]! * count);
    let seen = 0;
    for (let b = 0; b < NB && qi < QUANTILES.length; b++) {
      seen += total[b]!;
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
    const total = this.#total!;
    const rank = Math.ceil(q * s.count);
    let seen = 0;
    for (let b = 0; b < NB; b++) {
      seen += total[b]!;
      if (seen >= rank) return Math.min(BOUNDS[b]!, s.max);
    }
    return s.max;
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

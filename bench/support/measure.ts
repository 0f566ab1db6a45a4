// The timing loop of the micro-benchmarks: warm up until batch times settle, then 30 timed
// batches of about 200 ms; the median batch gives ns/op. GC is included, as it is in service.

export interface Timing {
  /** Median ns per operation over the timed batches. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly perBatch: number;
}

/**
 * Where results go so the work cannot be optimised away. By default only the latest result is
 * kept, as JMH's Blackhole keeps none. With `retain` (a power of two) the last results stay
 * alive in a ring, which on V8 mostly measures the young-generation collector copying them.
 */
let sink: unknown;

function batch(op: () => unknown, n: number, ring: unknown[]): number {
  const t0 = process.hrtime.bigint();
  if (ring.length === 0) {
    for (let i = 0; i < n; i++) sink = op();
  } else {
    const mask = ring.length - 1;
    for (let i = 0; i < n; i++) ring[i & mask] = op();
    sink = ring[0];
  }
  return Number(process.hrtime.bigint() - t0);
}

/** Measures `op`: doubles the batch until it takes 50 ms, warms up for 3 s or until settled. */
export function measure(op: () => unknown, options: { retain?: number } = {}): Timing {
  const retain = options.retain ?? 0;
  if (retain !== 0 && !Number.isInteger(Math.log2(retain))) throw new Error('retain takes a power of two');
  const ring = new Array<unknown>(retain).fill(null);
  let n = 1000;
  while (batch(op, n, ring) < 50e6) n *= 2;
  const start = Date.now();
  const recent: number[] = [];
  for (;;) {
    recent.push(batch(op, n, ring) / n);
    if (recent.length > 3) recent.shift();
    const settled = recent.length === 3 && Math.max(...recent) / Math.min(...recent) < 1.05;
    if (Date.now() - start > 3000 && settled) break;
    if (Date.now() - start > 15000) break;
  }
  const perBatch = Math.max(1, Math.round((200e6 / (recent.at(-1)! * n)) * n));
  const samples: number[] = [];
  for (let i = 0; i < 30; i++) samples.push(batch(op, perBatch, ring) / perBatch);
  samples.sort((x, y) => x - y);
  if (sink === undefined) throw new Error('the operation returned nothing');
  return { median: (samples[14]! + samples[15]!) / 2, min: samples[0]!, max: samples[29]!, perBatch };
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const v = [...values].sort((x, y) => x - y);
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** The `q` quantile (0..1) of some numbers, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const v = [...values].sort((x, y) => x - y);
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))]!;
}

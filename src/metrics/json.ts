// The metrics tree as linkerd's `/admin/metrics.json` gives it. The flat form is written as
// JSON bytes directly (bytes.ts), each metric's quoted name encoded once and kept, so a scrape
// of tens of thousands of metrics is one pass of number writing and byte copying.

import { ByteSink, releaseChunk, utf8 } from './bytes.ts';
import { Export, type Reprint } from './reprint.ts';
import type { MutableSnapshot } from './histogram.ts';
import type { Metric, MetricsRegistry } from './metrics.ts';

/**
 * Metrics written between two turns of the event loop by the streaming exporters. A request
 * crosses several turns (its head read, the upstream written, the answer read and written
 * back), each of which may wait for a slice; with 500 the p99 under scraping was about 1 ms
 * higher (bench/RESULTS.md, "Before the export thread").
 */
const EXPORT_SLICE = 100;

/** The chunks as one string, each given back to the pool. */
export function textOf(chunks: Buffer[]): string {
  const text = Buffer.concat(chunks).toString('utf8');
  for (const c of chunks) releaseChunk(c);
  return text;
}

/** Lets the event loop serve what is waiting (I/O included) before going on. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs `write` over `items` `slice` at a time (metrics: EXPORT_SLICE), letting the event loop go in between. */
export async function inSlices(items: readonly unknown[], write: (from: number, to: number) => void, slice = EXPORT_SLICE): Promise<void> {
  for (let i = 0; i < items.length; i += slice) {
    if (i > 0) await yieldToLoop();
    write(i, Math.min(items.length, i + slice));
  }
}

/** Filled again for each histogram written: exports allocate no snapshot objects. */
export const SNAP: MutableSnapshot = { count: 0, sum: 0, avg: 0, min: 0, max: 0, p50: 0, p90: 0, p95: 0, p99: 0, p9990: 0, p9999: 0 };

const STATS = ['max', 'min', 'p50', 'p90', 'p95', 'p99', 'p9990', 'p9999', 'sum', 'avg'] as const;
const OPEN = 0x7b;
const CLOSE = 0x7d;

/** `,"name":` for each value a metric prints (a histogram: `.count` first, then STATS). */
function jsonKeys(m: Metric): Buffer[] {
  if (m.kind !== 'histogram') return [utf8(`,${JSON.stringify(m.name)}:`)];
  return ['count', ...STATS].map((k) => utf8(`,${JSON.stringify(`${m.name}.${k}`)}:`));
}

/** The first key of an object has no comma before it. */
function key(sink: ByteSink, k: Buffer, first: boolean): void {
  sink.bytes(first ? k.subarray(1) : k);
}

/** What a metric's text depends on: its value, or a histogram's stamp. */
export function stampOf(m: Metric): number {
  return m.kind === 'counter' ? m.metric.value : m.kind === 'gauge' ? m.read() : m.metric.stamp;
}

function writeFlat(sink: ByteSink, ms: readonly Metric[], from: number, to: number, r: Reprint | undefined): void {
  if (r === undefined) {
    for (let i = from; i < to; i++) {
      const m = ms[i]!;
      writeOne(sink, m, i === 0, stampOf(m));
    }
    return;
  }
  const slots = r.slots;
  for (let i = from; i < to; i++) {
    const slot = slots[i]!;
    const stamp = r.stampOf(i, ms[i]!);
    // Unchanged since the last export: its bytes copied from there. The first metric has no
    // comma before it: its text fits nowhere else.
    if (i > 0 && r.keep(slot, stamp)) continue;
    r.flush();
    const at = sink.position;
    writeOne(sink, ms[i]!, i === 0, stamp);
    r.wrote(i, at, stamp, i > 0);
  }
  r.flush();
}

/** One metric's keys and values; `value` is a counter's or a gauge's value, read already. */
function writeOne(sink: ByteSink, m: Metric, first: boolean, value: number): void {
  const keys = (m.cache.json ??= jsonKeys(m));
  key(sink, keys[0]!, first);
  if (m.kind !== 'histogram') {
    sink.num(value);
    return;
  }
  const s = m.metric.snapshot(SNAP);
  sink.num(s.count);
  if (s.count === 0) return;
  // In STATS order.
  sink.bytes(keys[1]!), sink.num(s.max), sink.bytes(keys[2]!), sink.num(s.min);
  sink.bytes(keys[3]!), sink.num(s.p50), sink.bytes(keys[4]!), sink.num(s.p90);
  sink.bytes(keys[5]!), sink.num(s.p95), sink.bytes(keys[6]!), sink.num(s.p99);
  sink.bytes(keys[7]!), sink.num(s.p9990), sink.bytes(keys[8]!), sink.num(s.p9999);
  sink.bytes(keys[9]!), sink.num(s.sum), sink.bytes(keys[10]!), sink.num(s.avg);
}

/**
 * Counters and gauges as numbers; a histogram `X` as `X.count` and, once it has values in the
 * window, `X.max`, `X.min`, `X.p50` ... `X.sum`, `X.avg`. `under` keeps that scope's metrics.
 */
export function flatJson(registry: MetricsRegistry, under?: string): string {
  const ms = registry.under(under);
  const sink = new ByteSink();
  sink.byte(OPEN);
  writeFlat(sink, ms, 0, ms.length, undefined);
  sink.byte(CLOSE);
  return textOf(sink.finish());
}

/** The same as UTF-8 chunks handed to `out` as they fill, in one go (the export thread's way). */
export function writeFlatJson(registry: MetricsRegistry, under: string | undefined, out: (chunk: Buffer) => void): void {
  const ms = registry.under(under);
  // The whole tree copies what did not change from the last whole export; a scope writes everything.
  const e = new Export(registry, 'json', under === undefined || under === '', ms, '', out);
  e.run(() => {
    e.sink.byte(OPEN);
    writeFlat(e.sink, ms, 0, ms.length, e.r);
    e.sink.byte(CLOSE);
  });
}

/**
 * The same, a slice of metrics at a time with the event loop let go in between, so routing
 * goes on during a scrape (when the export thread does not write it).
 */
export async function streamFlatJson(registry: MetricsRegistry, under: string | undefined, out: (chunk: Buffer) => void): Promise<void> {
  const ms = registry.under(under);
  const e = new Export(registry, 'json', under === undefined || under === '', ms, '', out);
  await e.runSliced(async () => {
    e.sink.byte(OPEN);
    await inSlices(ms, (from, to) => writeFlat(e.sink, ms, from, to, e.r));
    e.sink.byte(CLOSE);
  });
}

function leaf(m: Metric): unknown {
  if (m.kind === 'counter') return { counter: m.metric.value };
  if (m.kind === 'gauge') return { gauge: m.read() };
  const s = m.metric.snapshot();
  const stat: Record<string, number> = { 'stat.count': s.count };
  if (s.count > 0) for (const k of STATS) stat[`stat.${k}`] = s[k];
  return stat;
}

/**
 * The same as nested objects per scope element (linkerd's `?tree=1`): a server, service or
 * client id is one element even with slashes in it; leaves are `{"counter": n}`,
 * `{"gauge": n}` or `{"stat.count": n, "stat.p50": n, ...}`.
 */
export function treeOf(registry: MetricsRegistry, under?: string): Record<string, unknown> {
  const ms = registry.under(under);
  // Objects without a prototype: a scope element may be `__proto__` (a service named so).
  const root: Record<string, unknown> = Object.create(null);
  addToTree(registry, root, ms, 0, ms.length);
  return root;
}

/** The same, built a slice of metrics at a time with the event loop let go in between. */
export async function treeOfSliced(registry: MetricsRegistry, under?: string): Promise<Record<string, unknown>> {
  const ms = registry.under(under);
  const root: Record<string, unknown> = Object.create(null);
  await inSlices(ms, (from, to) => addToTree(registry, root, ms, from, to));
  return root;
}

function addToTree(registry: MetricsRegistry, root: Record<string, unknown>, ms: readonly Metric[], from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const m = ms[i]!;
    const elems = (m.cache.elems ??= registry.elements(m.name));
    let node = root;
    for (let i = 0; i < elems.length - 1; i++) {
      const e = elems[i]!;
      const next = node[e];
      if (next === undefined || typeof next !== 'object') node[e] = Object.create(null);
      node = node[e] as Record<string, unknown>;
    }
    node[elems.at(-1)!] = leaf(m);
  }
}

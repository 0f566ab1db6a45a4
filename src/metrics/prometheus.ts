// The metrics tree in Prometheus's text format, with linkerd's mapping (spec/linkerd.md §9):
// a metric's scopes joined by `:` (`rt:service:request_latency_ms`), the router, server,
// service and client moved into labels, anything outside `[a-zA-Z0-9:]` turned into `_`, and
// histograms as summaries (quantiles only once something was recorded, then `_count`,
// `_sum` and `_avg`).

import { ByteSink, utf8 } from './bytes.ts';
import { Export, type Reprint } from './reprint.ts';
import { inSlices, SNAP, stampOf, textOf } from './json.ts';
import type { HistogramSnapshot, Metric, MetricsRegistry } from './metrics.ts';

const QUANTILES: readonly [string, (s: HistogramSnapshot) => number][] = [
  ['0', (s) => s.min],
  ['0.5', (s) => s.p50],
  ['0.9', (s) => s.p90],
  ['0.95', (s) => s.p95],
  ['0.99', (s) => s.p99],
  ['0.999', (s) => s.p9990],
  ['0.9999', (s) => s.p9999],
  ['1', (s) => s.max],
];

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9:]/g, '_');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: readonly [string, string][]): string {
  return labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(', ')}}`;
}

/** The Prometheus name and labels of a flat metric name (`rt/<router>/<kind>/<id>/<metric>`). */
export function prometheusName(name: string, registry: MetricsRegistry): { name: string; labels: [string, string][] } {
  if (!name.startsWith('rt/')) return { name: sanitize(name.split('/').join(':')), labels: [] };
  const { head, scopes, rest } = registry.labelled(name);
  // `head` is `rt`, the router, and any elements before the first labelled scope.
  const labels: [string, string][] = [['rt', head[1] ?? ''], ...scopes.map((s): [string, string] => [s.kind, s.id])];
  return { name: sanitize(['rt', ...head.slice(2), ...scopes.map((s) => s.kind), ...rest].join(':')), labels };
}

/** The start of each line a metric prints, up to the value: one, or eleven for a histogram. */
function heads(m: Metric, registry: MetricsRegistry, prefix: string): Buffer[] {
  const { name, labels } = prometheusName(m.name, registry);
  const n = `${prefix}${name}`;
  if (m.kind !== 'histogram') return [utf8(`${n}${labelText(labels)} `)];
  return [
    ...QUANTILES.map(([q]) => utf8(`${n}${labelText([...labels, ['quantile', q]])} `)),
    utf8(`${n}_count${labelText(labels)} `),
    utf8(`${n}_sum${labelText(labels)} `),
    utf8(`${n}_avg${labelText(labels)} `),
  ];
}

const NL = 0x0a;

/** One metric's lines; `value` is a counter's or a gauge's value, read already. */
function writeLines(sink: ByteSink, registry: MetricsRegistry, m: Metric, prefix: string, value: number): void {
  // Kept with the prefix it was made for: a reload may change the prefix.
  const c = m.cache;
  if (c.prom === undefined || c.promPrefix !== prefix) {
    c.prom = heads(m, registry, prefix);
    c.promPrefix = prefix;
  }
  const h = c.prom;
  if (m.kind !== 'histogram') {
    sink.bytes(h[0]!), sink.num(value), sink.byte(NL);
    return;
  }
  const s = m.metric.snapshot(SNAP);
  if (s.count > 0) for (let q = 0; q < QUANTILES.length; q++) sink.bytes(h[q]!), sink.num(QUANTILES[q]![1](s)), sink.byte(NL);
  sink.bytes(h[8]!), sink.num(s.count), sink.byte(NL);
  sink.bytes(h[9]!), sink.num(s.sum), sink.byte(NL);
  sink.bytes(h[10]!), sink.num(s.avg), sink.byte(NL);
}

function writeProm(sink: ByteSink, registry: MetricsRegistry, ms: readonly Metric[], from: number, to: number, prefix: string, r: Reprint | undefined): void {
  if (r === undefined) {
    for (let i = from; i < to; i++) {
      const m = ms[i]!;
      writeLines(sink, registry, m, prefix, stampOf(m));
    }
    return;
  }
  const slots = r.slots;
  for (let i = from; i < to; i++) {
    const slot = slots[i]!;
    const stamp = r.stampOf(i, ms[i]!);
    // Unchanged since the last export: its lines copied from there.
    if (r.keep(slot, stamp)) continue;
    r.flush();
    const at = sink.position;
    writeLines(sink, registry, ms[i]!, prefix, stamp);
    r.wrote(i, at, stamp);
  }
  r.flush();
}

/**
 * The whole tree as Prometheus text, each name prefixed by `prefix` when given. Each metric's
 * line starts are worked out and encoded once and kept, so a scrape writes numbers and copies
 * bytes.
 */
export function prometheusText(registry: MetricsRegistry, prefix = ''): string {
  const ms = registry.ordered();
  const sink = new ByteSink();
  writeProm(sink, registry, ms, 0, ms.length, prefix, undefined);
  return textOf(sink.finish());
}

/** The same as UTF-8 chunks handed to `out` as they fill, in one go (the export thread's way). */
export function writePrometheus(registry: MetricsRegistry, prefix: string, out: (chunk: Buffer) => void): void {
  const ms = registry.ordered();
  // Copying from the last text when it was written with the same prefix.
  const e = new Export(registry, 'prometheus', true, ms, prefix, out);
  e.run(() => writeProm(e.sink, registry, ms, 0, ms.length, prefix, e.r));
}

/**
 * The same, a slice of metrics at a time with the event loop let go in between, so routing
 * goes on during a scrape (when the export thread does not write it).
 */
export async function streamPrometheus(registry: MetricsRegistry, prefix: string, out: (chunk: Buffer) => void): Promise<void> {
  const ms = registry.ordered();
  const e = new Export(registry, 'prometheus', true, ms, prefix, out);
  await e.runSliced(() => inSlices(ms, (from, to) => writeProm(e.sink, registry, ms, from, to, prefix, e.r)));
}

// The metrics tree in Prometheus's text format, with linkerd's mapping (spec/linkerd.md §9):
// a metric's scopes joined by `:` (`rt:service:request_latency_ms`), the router, server,
// service and client moved into labels, anything outside `[a-zA-Z0-9:]` turned into `_`, and
// histograms as summaries (quantiles only once something was recorded, then `_count`,
// `_sum` and `_avg`).

import { EXPORT_SLICE, yieldToLoop } from './json.ts';
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
function heads(m: Metric, registry: MetricsRegistry): string[] {
  const { name, labels } = prometheusName(m.name, registry);
  if (m.kind !== 'histogram') return [`${name}${labelText(labels)} `];
  return [
    ...QUANTILES.map(([q]) => `${name}${labelText([...labels, ['quantile', q]])} `),
    `${name}_count${labelText(labels)} `,
    `${name}_sum${labelText(labels)} `,
    `${name}_avg${labelText(labels)} `,
  ];
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : '0';
}

/**
 * The whole tree as Prometheus text, each name prefixed by `prefix` when given. Each metric's
 * line starts are worked out once and kept, so a scrape formats numbers and joins strings.
 */
export function prometheusText(registry: MetricsRegistry, prefix = ''): string {
  const ms = registry.ordered();
  return promPart(registry, ms, 0, ms.length, prefix);
}

/** The same, a slice at a time with the event loop let go in between, so routing goes on. */
export async function prometheusTextYielding(registry: MetricsRegistry, prefix = ''): Promise<string> {
  const ms = registry.ordered();
  let out = '';
  for (let i = 0; i < ms.length; i += EXPORT_SLICE) {
    if (i > 0) await yieldToLoop();
    out += promPart(registry, ms, i, Math.min(ms.length, i + EXPORT_SLICE), prefix);
  }
  return out;
}

function promPart(registry: MetricsRegistry, ms: readonly Metric[], from: number, to: number, prefix: string): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const m = ms[i]!;
    const h = (m.cache.prom ??= heads(m, registry));
    if (m.kind === 'counter') out += `${prefix}${h[0]}${num(m.metric.value)}\n`;
    else if (m.kind === 'gauge') out += `${prefix}${h[0]}${num(m.read())}\n`;
    else {
      const s = m.metric.snapshot();
      if (s.count > 0) for (let i = 0; i < QUANTILES.length; i++) out += `${prefix}${h[i]}${num(QUANTILES[i]![1](s))}\n`;
      out += `${prefix}${h[8]}${s.count}\n${prefix}${h[9]}${num(s.sum)}\n${prefix}${h[10]}${num(s.avg)}\n`;
    }
  }
  return out;
}

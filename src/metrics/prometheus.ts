// The metrics tree in Prometheus's text format, with linkerd's mapping (spec/linkerd.md §9):
// a metric's scopes joined by `:` (`rt:service:request_latency_ms`), the router, server,
// service and client moved into labels, anything outside `[a-zA-Z0-9:]` turned into `_`, and
// histograms as summaries (quantiles only once something was recorded, then `_count`,
// `_sum` and `_avg`).

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
export function prometheusName(name: string, scopes: ReadonlyMap<string, { kind: string; id: string }>): { name: string; labels: [string, string][] } {
  const parts = name.split('/');
  if (parts[0] === 'rt' && parts.length >= 3) {
    const router = parts[1]!;
    // The longest registered scope under this router that the name starts with.
    for (let end = parts.length - 1; end >= 3; end--) {
      const scope = scopes.get(parts.slice(0, end).join('/'));
      if (scope === undefined) continue;
      const rest = parts.slice(end);
      return { name: sanitize(['rt', scope.kind, ...rest].join(':')), labels: [['rt', router], [scope.kind, scope.id]] };
    }
    return { name: sanitize(['rt', ...parts.slice(2)].join(':')), labels: [['rt', router]] };
  }
  return { name: sanitize(parts.join(':')), labels: [] };
}

/** The whole tree as Prometheus text, prefixed by `prefix` when given. */
export function prometheusText(registry: MetricsRegistry, prefix = ''): string {
  const scopes = registry.scopes();
  let out = '';
  const line = (name: string, labels: [string, string][], value: number): void => {
    out += `${prefix}${name}${labelText(labels)} ${Number.isFinite(value) ? value : 0}\n`;
  };
  for (const [flat, m] of registry.entries()) {
    const { name, labels } = prometheusName(flat, scopes);
    emit(m, name, labels, line);
  }
  return out;
}

function emit(m: Metric, name: string, labels: [string, string][], line: (n: string, l: [string, string][], v: number) => void): void {
  if (m.kind === 'counter') line(name, labels, m.metric.value);
  else if (m.kind === 'gauge') line(name, labels, m.read());
  else {
    const s = m.metric.snapshot();
    if (s.count > 0) for (const [q, f] of QUANTILES) line(name, [...labels, ['quantile', q]], f(s));
    line(`${name}_count`, labels, s.count);
    line(`${name}_sum`, labels, s.sum);
    line(`${name}_avg`, labels, s.avg);
  }
}

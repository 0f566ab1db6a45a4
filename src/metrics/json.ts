// The metrics tree as linkerd's `/admin/metrics.json` gives it. The flat form is written as
// JSON text directly, each metric's quoted name kept from one read to the next, so a scrape of
// tens of thousands of metrics is one pass of number formatting and string joining.

import type { Metric, MetricsRegistry } from './metrics.ts';

/**
 * Metrics written between two turns of the event loop by the yielding exporters: about half a
 * millisecond of work, so a scrape of a large tree never holds requests up for long.
 */
export const EXPORT_SLICE = 2000;

/** Lets the event loop serve what is waiting (I/O included) before going on. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const STATS = ['max', 'min', 'p50', 'p90', 'p95', 'p99', 'p9990', 'p9999', 'sum', 'avg'] as const;

function jsonKeys(m: Metric): string[] {
  if (m.kind !== 'histogram') return [`,${JSON.stringify(m.name)}:`];
  return ['count', ...STATS].map((k) => `,${JSON.stringify(`${m.name}.${k}`)}:`);
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : '0';
}

/**
 * Counters and gauges as numbers; a histogram `X` as `X.count` and, once it has values in the
 * window, `X.max`, `X.min`, `X.p50` ... `X.sum`, `X.avg`. `under` keeps that scope's metrics.
 */
export function flatJson(registry: MetricsRegistry, under?: string): string {
  const ms = registry.under(under);
  return `{${flatPart(ms, 0, ms.length).slice(1)}}`;
}

/** The same, a slice at a time with the event loop let go in between, so routing goes on. */
export async function flatJsonYielding(registry: MetricsRegistry, under?: string): Promise<string> {
  const ms = registry.under(under);
  let out = '';
  for (let i = 0; i < ms.length; i += EXPORT_SLICE) {
    if (i > 0) await yieldToLoop();
    out += flatPart(ms, i, Math.min(ms.length, i + EXPORT_SLICE));
  }
  return `{${out.slice(1)}}`;
}

function flatPart(ms: readonly Metric[], from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const m = ms[i]!;
    // `,"rt/http/requests":` (the comma dropped from the first), and for a histogram one such
    // key per statistic, `.count` first.
    const keys = (m.cache.json ??= jsonKeys(m));
    if (m.kind === 'counter') out += `${keys[0]}${num(m.metric.value)}`;
    else if (m.kind === 'gauge') out += `${keys[0]}${num(m.read())}`;
    else {
      const s = m.metric.snapshot();
      out += `${keys[0]}${s.count}`;
      if (s.count === 0) continue;
      // In STATS order, written out: a keyed read per statistic costs more than the rest.
      out += `${keys[1]}${num(s.max)}${keys[2]}${num(s.min)}${keys[3]}${num(s.p50)}${keys[4]}${num(s.p90)}${keys[5]}${num(s.p95)}`;
      out += `${keys[6]}${num(s.p99)}${keys[7]}${num(s.p9990)}${keys[8]}${num(s.p9999)}${keys[9]}${num(s.sum)}${keys[10]}${num(s.avg)}`;
    }
  }
  return out;
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
  const root: Record<string, unknown> = {};
  for (const m of registry.under(under)) {
    const elems = (m.cache.elems ??= registry.elements(m.name));
    let node = root;
    for (let i = 0; i < elems.length - 1; i++) {
      const e = elems[i]!;
      const next = node[e];
      if (next === undefined || typeof next !== 'object') node[e] = {};
      node = node[e] as Record<string, unknown>;
    }
    node[elems.at(-1)!] = leaf(m);
  }
  return root;
}

// The metrics tree, in linkerd's (Finagle's) shape: counters, gauges and latency histograms
// under slash-separated scopes such as `rt/http/service/svc/web/requests`. Handles are looked
// up once, where a server, client or service is made, so the request path only adds numbers.
// The admin server reads the tree; dropping a scope (an idle client) drops its metrics.
// The registry holds at most `maxMetrics` names: past it, new metrics still count but are not
// exported, and `process/metrics/dropped` says how many were refused, so a flood of distinct
// names cannot grow it without bound.

import { Histogram, HistogramWindow } from './histogram.ts';

export { Histogram, HistogramWindow } from './histogram.ts';
export type { HistogramSnapshot } from './histogram.ts';

/** A monotonically increasing count. */
export class Counter {
  value = 0;
  incr(n = 1): void {
    this.value += n;
  }
}

export type Metric = { kind: 'counter'; metric: Counter } | { kind: 'gauge'; read: () => number } | { kind: 'histogram'; metric: Histogram };

/** The whole tree, by full name (`rt/http/client/#/io.l5d.fs/web/requests`). */
export interface RegistryOptions {
  /** The histograms' window (a minute, in six slices, unless given). */
  readonly window?: HistogramWindow;
  /** Most metric names kept (100,000 unless given). */
  readonly maxMetrics?: number;
}

export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();
  readonly window: HistogramWindow;
  readonly #max: number;
  /** Metrics refused past `maxMetrics`. */
  dropped = 0;

  constructor(options: RegistryOptions = {}) {
    this.window = options.window ?? new HistogramWindow();
    this.#max = options.maxMetrics ?? 100_000;
    this.gauge('process/metrics/count', () => this.#metrics.size);
    this.gauge('process/metrics/dropped', () => this.dropped);
  }

  /** Whether a new name may be added. */
  #room(): boolean {
    if (this.#metrics.size < this.#max) return true;
    this.dropped++;
    return false;
  }

  /** Stops the histograms' clock. */
  close(): void {
    this.window.close();
  }
  /** Scopes that name a server, service or client, for exporters that turn them into labels. */
  readonly #scopes = new Map<string, { kind: string; id: string }>();

  /** Says that `scope` (`rt/<router>/client/<id>`) is the `kind` scope named `id`. */
  labelScope(scope: string, kind: string, id: string): void {
    this.#scopes.set(scope, { kind, id });
  }

  scopes(): ReadonlyMap<string, { kind: string; id: string }> {
    return this.#scopes;
  }

  counter(name: string): Counter {
    const m = this.#metrics.get(name);
    if (m?.kind === 'counter') return m.metric;
    const c = new Counter();
    if (this.#room()) this.#metrics.set(name, { kind: 'counter', metric: c });
    return c;
  }

  histogram(name: string): Histogram {
    const m = this.#metrics.get(name);
    if (m?.kind === 'histogram') return m.metric;
    const h = new Histogram(this.window);
    if (this.#room()) this.#metrics.set(name, { kind: 'histogram', metric: h });
    return h;
  }

  gauge(name: string, read: () => number): void {
    if (this.#metrics.has(name) || this.#room()) this.#metrics.set(name, { kind: 'gauge', read });
  }

  /** Drops every metric under `scope` (an idle client or service, pruned as linkerd does). */
  removeScope(scope: string): void {
    const prefix = scope.endsWith('/') ? scope : `${scope}/`;
    for (const k of [...this.#metrics.keys()]) if (k.startsWith(prefix)) this.#metrics.delete(k);
    for (const k of [...this.#scopes.keys()]) if (k === scope || k.startsWith(prefix)) this.#scopes.delete(k);
  }

  get(name: string): Metric | undefined {
    return this.#metrics.get(name);
  }

  /** Every metric, sorted by name. */
  entries(): [string, Metric][] {
    return [...this.#metrics.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /**
   * Flat values as linkerd's `/admin/metrics.json` gives them: counters and gauges as numbers,
   * a histogram `X` as `X.count` and, once it has values, `X.min`, `X.max`, `X.p50` ...
   * `X.sum`, `X.avg`. `under`, when given, keeps the metrics under that scope.
   */
  flat(under?: string): Record<string, number> {
    const out: Record<string, number> = {};
    const prefix = under === undefined || under === '' ? undefined : `${under.replace(/\/+$/, '')}/`;
    for (const [name, m] of this.entries()) {
      if (prefix !== undefined && !name.startsWith(prefix)) continue;
      if (m.kind === 'counter') out[name] = m.metric.value;
      else if (m.kind === 'gauge') out[name] = m.read();
      else {
        const snap = m.metric.snapshot();
        out[`${name}.count`] = snap.count;
        if (snap.count === 0) continue;
        for (const k of ['max', 'min', 'p50', 'p90', 'p95', 'p99', 'p9990', 'p9999', 'sum', 'avg'] as const) out[`${name}.${k}`] = snap[k];
      }
    }
    return out;
  }

  /**
   * The same as nested objects per scope element (linkerd's `?tree=1`): a server, service or
   * client id is one element even with slashes in it; leaves are `{"counter": n}`,
   * `{"gauge": n}` or `{"stat.count": n, "stat.p50": n, ...}`.
   */
  tree(under?: string): Record<string, unknown> {
    const root: Record<string, unknown> = {};
    const prefix = under === undefined || under === '' ? undefined : `${under.replace(/\/+$/, '')}/`;
    for (const [name, m] of this.entries()) {
      if (prefix !== undefined && !name.startsWith(prefix)) continue;
      let node = root;
      const elems = this.#elements(name);
      for (let i = 0; i < elems.length - 1; i++) {
        const e = elems[i]!;
        const next = node[e];
        if (next === undefined || typeof next !== 'object') node[e] = {};
        node = node[e] as Record<string, unknown>;
      }
      const leaf = elems.at(-1)!;
      if (m.kind === 'counter') node[leaf] = { counter: m.metric.value };
      else if (m.kind === 'gauge') node[leaf] = { gauge: m.read() };
      else {
        const snap = m.metric.snapshot();
        const stat: Record<string, number> = { 'stat.count': snap.count };
        if (snap.count > 0) for (const k of ['max', 'min', 'p50', 'p90', 'p95', 'p99', 'p9990', 'p9999', 'sum', 'avg'] as const) stat[`stat.${k}`] = snap[k];
        node[leaf] = stat;
      }
    }
    return root;
  }

  /** A name's scope elements, a labelled scope's id kept whole. */
  #elements(name: string): string[] {
    const parts = name.split('/');
    for (let end = parts.length - 1; end >= 1; end--) {
      const scope = this.#scopes.get(parts.slice(0, end).join('/'));
      if (scope === undefined) continue;
      const idParts = scope.id.split('/').length;
      return [...parts.slice(0, end - idParts), scope.id, ...parts.slice(end)];
    }
    return parts;
  }

  /** Whether any metric lies under `scope`. */
  hasScope(scope: string): boolean {
    const prefix = `${scope.replace(/\/+$/, '')}/`;
    for (const k of this.#metrics.keys()) if (k.startsWith(prefix) || k === scope) return true;
    return false;
  }
}

/** The scope handles of one request-carrying node: requests, success, failures, latency. */
export class RequestStats {
  readonly requests: Counter;
  readonly success: Counter;
  readonly failures: Counter;
  readonly latency: Histogram;

  constructor(registry: MetricsRegistry, scope: string) {
    this.requests = registry.counter(`${scope}/requests`);
    this.success = registry.counter(`${scope}/success`);
    this.failures = registry.counter(`${scope}/failures`);
    this.latency = registry.histogram(`${scope}/request_latency_ms`);
  }

  /** One finished request. */
  record(success: boolean, latencyMs: number): void {
    this.requests.incr();
    if (success) this.success.incr();
    else this.failures.incr();
    this.latency.add(latencyMs);
  }
}

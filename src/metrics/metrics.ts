// The metrics tree, in linkerd's (Finagle's) shape: counters, gauges and latency histograms
// under slash-separated scopes such as `rt/http/service/svc/web/requests`. Handles are looked
// up once, where a server, client or service is made, so the request path only adds numbers.
// The admin server reads the tree; dropping a scope (an idle client) drops its metrics.
// The registry holds at most `maxMetrics` names: past it, new metrics still count but are not
// exported, and `process/metrics/dropped` says how many were refused, so a flood of distinct
// names cannot grow it without bound.

import { Histogram, HistogramWindow } from './histogram.ts';
import { flatJson, treeOf } from './json.ts';

export { Histogram, HistogramWindow } from './histogram.ts';
export type { HistogramSnapshot } from './histogram.ts';

/** A monotonically increasing count. */
export class Counter {
  value = 0;
  incr(n = 1): void {
    this.value += n;
  }
}

/** `s` without trailing slashes (a loop: a regular expression here is quadratic on `///...x`). */
function trimSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 47) end--;
  return s.slice(0, end);
}

/** What exporters keep of a metric between reads: its name as each of them prints it. */
export interface ExportCache {
  json?: Buffer[];
  prom?: Buffer[];
  promPrefix?: string;
  /** A histogram's last text (with its leading comma), and the stamp it had then. */
  jsonText?: Buffer | undefined;
  jsonStamp?: number;
  promText?: Buffer | undefined;
  promStamp?: number;
  elems?: string[];
}

export type Metric = ({ kind: 'counter'; metric: Counter } | { kind: 'gauge'; read: () => number } | { kind: 'histogram'; metric: Histogram }) & {
  readonly name: string;
  readonly cache: ExportCache;
};

export interface RegistryOptions {
  /** The histograms' window (a minute, in six slices, unless given). */
  readonly window?: HistogramWindow;
  /** Most metric names kept (100,000 unless given). */
  readonly maxMetrics?: number;
}

/** The whole tree, by full name (`rt/http/client/#/io.l5d.fs/web/requests`). */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();
  /** Every metric sorted by name, sorted again only after a name comes. */
  #ordered: Metric[] | undefined;
  /** `#ordered` holds metrics removed since it was made. */
  #stale = false;
  /** Scopes that name a server, service or client, for exporters that turn them into labels. */
  readonly #scopes = new Map<string, { kind: string; id: string }>();
  readonly window: HistogramWindow;
  readonly #max: number;
  /** Metrics refused past `maxMetrics`. */
  dropped = 0;
  /** Moves on whenever a name comes or goes: readers that keep handles look again. */
  version = 0;

  constructor(options: RegistryOptions = {}) {
    this.window = options.window ?? new HistogramWindow();
    this.#max = options.maxMetrics ?? 100_000;
    this.gauge('process/metrics/count', () => this.#metrics.size);
    this.gauge('process/metrics/dropped', () => this.dropped);
  }

  /** Stops the histograms' clock. */
  close(): void {
    this.window.close();
  }

  /** Says that `scope` (`rt/<router>/client/<id>`) is the `kind` scope named `id`. */
  labelScope(scope: string, kind: string, id: string): void {
    this.#scopes.set(scope, { kind, id });
    this.version++;
  }

  scopes(): ReadonlyMap<string, { kind: string; id: string }> {
    return this.#scopes;
  }

  /** Adds `m` when there is room; false (and counted) when there is none. */
  #add(m: Metric): boolean {
    if (!this.#metrics.has(m.name) && this.#metrics.size >= this.#max) {
      this.dropped++;
      return false;
    }
    // A new name, or a new metric under an old one (a gauge of a client made again): the
    // sorted array must hold this one.
    this.#ordered = undefined;
    this.version++;
    this.#metrics.set(m.name, m);
    return true;
  }

  counter(name: string): Counter {
    const m = this.#metrics.get(name);
    if (m?.kind === 'counter') return m.metric;
    const c = new Counter();
    this.#add({ kind: 'counter', metric: c, name, cache: {} });
    return c;
  }

  histogram(name: string): Histogram {
    const m = this.#metrics.get(name);
    if (m?.kind === 'histogram') return m.metric;
    const h = new Histogram(this.window);
    this.#add({ kind: 'histogram', metric: h, name, cache: {} });
    return h;
  }

  gauge(name: string, read: () => number): void {
    this.#add({ kind: 'gauge', read, name, cache: {} });
  }

  /** Drops every metric under `scope` (an idle client or service, pruned as linkerd does). */
  removeScope(scope: string): void {
    const base = trimSlashes(scope);
    const prefix = `${base}/`;
    // Labelled scopes whose names only start like this one's (`svc/web/v2` beside `svc/web`)
    // are others': they stay.
    const others: string[] = [];
    for (const s of this.#scopes.keys()) if (s.startsWith(prefix) && !this.#inside(s, base)) others.push(s);
    // The sorted array may still hold metrics removed before: they are skipped, and left out
    // of it at the next read (a burst of removals sorts and copies nothing).
    this.#ordered ??= this.#sort();
    const ordered = this.#ordered;
    const run = this.#run(ordered, prefix);
    for (let i = run.from; i < run.to; i++) {
      const m = ordered[i]!;
      if (!others.some((o) => m.name.startsWith(`${o}/`)) && this.#metrics.get(m.name) === m) {
        this.#metrics.delete(m.name);
        this.#stale = true;
      }
    }
    if (this.#metrics.delete(base)) this.#stale = true;
    this.version++;
    for (const s of [...this.#scopes.keys()]) if (s === base || (s.startsWith(prefix) && !others.some((o) => s === o || s.startsWith(`${o}/`)))) this.#scopes.delete(s);
  }

  /** Whether labelled scope `s` lies inside `base` (its parents, scope by scope, lead to it). */
  #inside(s: string, base: string): boolean {
    let cur = s;
    for (;;) {
      const l = this.#scopes.get(cur);
      if (l === undefined) return false;
      // `<parent>/<kind>/<id>`
      const withoutId = cur.slice(0, cur.length - l.id.length - 1);
      const parent = withoutId.slice(0, withoutId.lastIndexOf('/'));
      if (parent === base) return true;
      if (!parent.startsWith(`${base}/`)) return false;
      cur = parent;
    }
  }

  /** The run of sorted metrics whose names start with `prefix`. */
  #run(all: readonly Metric[], prefix: string): { from: number; to: number } {
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (all[mid]!.name < prefix) lo = mid + 1;
      else hi = mid;
    }
    let to = lo;
    while (to < all.length && all[to]!.name.startsWith(prefix)) to++;
    return { from: lo, to };
  }

  get(name: string): Metric | undefined {
    return this.#metrics.get(name);
  }

  get size(): number {
    return this.#metrics.size;
  }

  /** Every metric, sorted by name. The array is shared: do not change it. */
  ordered(): readonly Metric[] {
    if (this.#ordered === undefined) this.#ordered = this.#sort();
    else if (this.#stale) {
      // A new array: an export in progress keeps reading the one it has.
      this.#ordered = this.#ordered.filter((m) => this.#metrics.get(m.name) === m);
    }
    this.#stale = false;
    return this.#ordered;
  }

  #sort(): Metric[] {
    this.#stale = false;
    return [...this.#metrics.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The metrics under `scope` (all of them when undefined or empty), sorted by name. */
  under(scope: string | undefined): readonly Metric[] {
    const all = this.ordered();
    if (scope === undefined || scope === '') return all;
    // Sorted: the scope's metrics are one run, found by binary search.
    const run = this.#run(all, `${trimSlashes(scope)}/`);
    return all.slice(run.from, run.to);
  }

  /** Flat values as an object (see flatJson for the shape). */
  flat(under?: string): Record<string, number> {
    return JSON.parse(flatJson(this, under)) as Record<string, number>;
  }

  /** Nested values per scope element (linkerd's `?tree=1`); see treeOf. */
  tree(under?: string): Record<string, unknown> {
    return treeOf(this, under);
  }

  /** A name's scope elements, a labelled scope's id kept whole. */
  elements(name: string): string[] {
    const { head, scopes, rest } = this.labelled(name);
    return [...head, ...scopes.flatMap((s) => [s.element, s.id]), ...rest];
  }

  /**
   * The labelled scopes `name` lies in, outermost first (a client's service lies in its
   * client), each as the element naming its kind and its id; `head` is what comes before
   * them (`rt`, the router) and `rest` the metric's own elements.
   */
  labelled(name: string): { head: string[]; scopes: { element: string; kind: string; id: string }[]; rest: string[] } {
    const parts = name.split('/');
    // The innermost labelled scope: the longest prefix, cut at a slash, that is one.
    let cur = parts.length - 1;
    let end = name.lastIndexOf('/');
    while (cur >= 1 && !this.#scopes.has(name.slice(0, end))) {
      cur--;
      end = name.lastIndexOf('/', end - 1);
    }
    if (cur < 1) return { head: parts, scopes: [], rest: [] };
    const rest = parts.slice(cur);
    const scopes: { element: string; kind: string; id: string }[] = [];
    for (;;) {
      const s = cur >= 2 ? this.#scopes.get(parts.slice(0, cur).join('/')) : undefined;
      if (s === undefined) break;
      cur -= s.id.split('/').length + 1;
      scopes.unshift({ element: parts[cur]!, kind: s.kind, id: s.id });
    }
    return { head: parts.slice(0, cur), scopes, rest };
  }

  /** Whether any metric lies under `scope`. */
  hasScope(scope: string): boolean {
    return this.#metrics.has(scope) || this.under(scope).length > 0;
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

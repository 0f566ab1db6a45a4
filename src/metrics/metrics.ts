// The metrics tree, in linkerd's (Finagle's) shape: counters, gauges and latency histograms
// under slash-separated scopes such as `rt/http/service/svc/web/requests`. Handles are looked
// up once, where a server, client or service is made, so the request path only adds numbers.
// The admin server reads the tree; dropping a scope (an idle client) drops its metrics.
// The registry holds at most `maxMetrics` names: past it, new metrics still count but are not
// exported, and `process/metrics/dropped` says how many were refused, so a flood of distinct
// names cannot grow it without bound. The numbers live in a store of shared memory
// (store.ts), so a thread of their own writes the scrapes of a large tree (export-thread.ts):
// the registry hands it each name that comes or goes (changes.ts).

import { BUCKETS, Histogram, HistogramWindow } from './histogram.ts';
import { flatJson, treeOf } from './json.ts';
import { type Change, CHANGES_HELD } from './changes.ts';
import { Counter } from './counter.ts';
import { inside, type Labelled, labelledName } from './scopes.ts';
import { MetricStore } from './store.ts';
import { ExportCache } from './export-cache.ts';

export { Counter } from './counter.ts';
export { Histogram, HistogramWindow } from './histogram.ts';
export type { HistogramSnapshot } from './histogram.ts';
export { ExportCache } from './export-cache.ts';

/** `s` without trailing slashes (a loop: a regular expression here is quadratic on `///...x`). */
function trimSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 47) end--;
  return s.slice(0, end);
}

export type Metric = ({ kind: 'counter'; metric: Counter } | { kind: 'gauge'; read: () => number } | { kind: 'histogram'; metric: Histogram }) & {
  readonly name: string;
  readonly cache: ExportCache;
  /** Its value's slot in the store (a histogram's: the slot naming its block). */
  readonly slot: number;
};

/** A gauge as the export writes it: its function, and its slot's page and index. */
interface GaugeCell {
  readonly read: () => number;
  readonly page: Float64Array<ArrayBufferLike>;
  readonly index: number;
  /** False once the gauge has left the tree (its slot may be another metric's). */
  live: boolean;
}

export interface RegistryOptions {
  /** The histograms' window (a minute, in six slices, unless given). */
  readonly window?: HistogramWindow;
  /** Most metric names kept (100,000 unless given). */
  readonly maxMetrics?: number;
  /**
   * A copy read in another thread: metrics come from changes.ts's applyChanges, over the
   * memory the registry it copies made, and the registry has no metrics of its own.
   */
  readonly copy?: boolean;
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
  /** Where the numbers are, shared with the export thread. */
  readonly store: MetricStore;
  /** A copy read in another thread (see RegistryOptions.copy): its gauges' values are in the store. */
  readonly copy: boolean;
  /** Each gauge's function and where its value goes; the list is made again when gauges change. */
  readonly #gauges = new Map<Metric, GaugeCell>();
  #gaugeList: GaugeCell[] | undefined;
  /** Reads of the gauges under way, and the gauges made since the first of them began. */
  #publishing = 0;
  #fresh: GaugeCell[] = [];
  /** The list the last whole read wrote, and when it began (performance.now()). */
  #publishedList: GaugeCell[] | undefined;
  #publishedAt = Number.NEGATIVE_INFINITY;
  /** Where changes go once a reader follows (export-thread.ts), and those not handed on yet. */
  #follower: ((changes: Change[]) => void) | undefined;
  #changes: Change[] = [];

  constructor(options: RegistryOptions = {}) {
    this.window = options.window ?? new HistogramWindow();
    this.#max = options.maxMetrics ?? 100_000;
    this.store = new MetricStore(this.window.slices, BUCKETS);
    this.store.onPage = (page) => this.#changed({ op: 'page', page });
    this.copy = options.copy === true;
    if (this.copy) return;
    this.gauge('process/metrics/count', () => this.#metrics.size);
    this.gauge('process/metrics/dropped', () => this.dropped);
  }

  /**
   * Hands `to` the whole registry as changes now, and every change from then on, in order: in
   * batches when {@link handOn} is called (before each export) or when many have come.
   */
  follow(to: (changes: Change[]) => void): void {
    // One follower: a second would take the changes the first one's copy needs.
    if (this.#follower !== undefined) throw new Error('the metrics registry already has a follower');
    this.#follower = to;
    const all: Change[] = this.store.pages().map((page) => ({ op: 'page', page }));
    for (const [scope, l] of this.#scopes) all.push({ op: 'label', scope, kind: l.kind, id: l.id });
    for (const m of this.#metrics.values()) all.push({ op: 'add', name: m.name, kind: m.kind, slot: m.slot });
    this.#changes = [];
    to(all);
  }

  /** Stops handing changes on. */
  unfollow(): void {
    this.#follower = undefined;
    this.#changes = [];
  }

  /** Hands the changes held on to the follower. */
  handOn(): void {
    if (this.#follower === undefined || this.#changes.length === 0) return;
    const batch = this.#changes;
    this.#changes = [];
    this.#follower(batch);
  }

  #changed(c: Change): void {
    if (this.#follower === undefined) return;
    this.#changes.push(c);
    if (this.#changes.length >= CHANGES_HELD) this.handOn();
  }

  /**
   * Writes each gauge's value to its slot, for a reader in another thread, `slice` gauges at a
   * time with the event loop let go in between (thousands of gauges take milliseconds). Not
   * again within `maxAgeMs` of the last whole read while the gauges are the same ones: scrapes
   * that come together (a dashboard's and Prometheus's, two Prometheus replicas, the JSON and
   * the Prometheus text one after the other) then read them once.
   */
  async publishGauges(slice: number, pause: () => Promise<void>, maxAgeMs = 0): Promise<void> {
    const all = (this.#gaugeList ??= [...this.#gauges.values()]);
    if (all === this.#publishedList && this.#publishing === 0 && performance.now() - this.#publishedAt < maxAgeMs) return;
    // The age of a read is that of its first values: a read under load spans many turns.
    const startedAt = performance.now();
    this.#publishing++;
    try {
      for (let i = 0; i < all.length; i += slice) {
        if (i > 0) await pause();
        const end = Math.min(all.length, i + slice);
        for (let j = i; j < end; j++) {
          const g = all[j]!;
          // A gauge removed meanwhile has its slot freed (maybe taken by another metric): not written.
          if (g.live) g.page[g.index] = g.read();
        }
      }
    } finally {
      this.#publishing--;
    }
    // Gauges made during the pauses are in no list read: written now, before the export that
    // will print them.
    for (const g of this.#fresh) if (g.live) g.page[g.index] = g.read();
    if (this.#publishing === 0) this.#fresh = [];
    // Gauges added or removed meanwhile: the next read is a whole one.
    if (this.#gaugeList === all) {
      this.#publishedList = all;
      this.#publishedAt = startedAt;
    }
  }

  /**
   * Puts `m` in the tree as it is: a copy's metric over memory another registry made
   * (changes.ts). Whatever had its name leaves, its memory untouched.
   */
  adopt(m: Metric): void {
    this.#ordered = undefined;
    this.version++;
    this.#metrics.set(m.name, m);
  }

  /** Takes `name` out of the tree, its memory untouched (a copy's way to follow a drop). */
  drop(name: string): void {
    if (this.#metrics.delete(name)) this.#stale = true;
    this.version++;
  }

  /** Says that `scope` names no server, service or client any more. */
  unlabelScope(scope: string): void {
    this.#scopes.delete(scope);
    this.version++;
    this.#changed({ op: 'unlabel', scope });
  }

  /** Stops the histograms' clock. */
  close(): void {
    this.window.close();
  }

  /** Says that `scope` (`rt/<router>/client/<id>`) is the `kind` scope named `id`. */
  labelScope(scope: string, kind: string, id: string): void {
    this.#scopes.set(scope, { kind, id });
    this.version++;
    this.#changed({ op: 'label', scope, kind, id });
  }

  scopes(): ReadonlyMap<string, { kind: string; id: string }> {
    return this.#scopes;
  }

  /** Whether there is room for `name`; false (and counted) when there is none. */
  #room(name: string): boolean {
    if (!this.#metrics.has(name) && this.#metrics.size >= this.#max) {
      this.dropped++;
      return false;
    }
    return true;
  }

  #add(m: Metric): void {
    // A new name, or a new metric under an old one (a gauge of a client made again): the
    // sorted array must hold this one, and the old one's memory is freed.
    const old = this.#metrics.get(m.name);
    if (old !== undefined) this.#release(old);
    this.#ordered = undefined;
    this.version++;
    this.#metrics.set(m.name, m);
    if (m.kind === 'gauge') {
      const cell = { read: m.read, page: this.store.scalarPage(m.slot)!, index: MetricStore.indexOf(m.slot), live: true };
      this.#gauges.set(m, cell);
      this.#gaugeList = undefined;
      if (this.#publishing > 0) this.#fresh.push(cell);
    }
    this.#changed({ op: 'add', name: m.name, kind: m.kind, slot: m.slot });
  }

  /**
   * Frees a metric's memory once it has left the tree. A counter or histogram still held (a
   * request finishing on a pruned client) keeps counting, in memory of its own.
   */
  #release(m: Metric): void {
    const store = this.store;
    if (m.kind === 'counter') m.metric.detach();
    else if (m.kind === 'histogram') {
      m.metric.detach();
      const handle = store.read(m.slot);
      if (handle > 0) store.releaseBlock(handle - 1);
    } else {
      const cell = this.#gauges.get(m);
      if (cell !== undefined) cell.live = false;
      this.#gauges.delete(m);
      this.#gaugeList = undefined;
    }
    store.release(m.slot);
    this.#changed({ op: 'drop', name: m.name });
  }

  counter(name: string): Counter {
    const m = this.#metrics.get(name);
    if (m?.kind === 'counter') return m.metric;
    // Past the bound a counter still counts, but in memory of its own.
    if (!this.#room(name)) return new Counter();
    const slot = this.store.slot();
    const c = new Counter(this.store.scalarPage(slot)!, MetricStore.indexOf(slot));
    this.#add({ kind: 'counter', metric: c, name, cache: new ExportCache(), slot });
    return c;
  }

  histogram(name: string): Histogram {
    const m = this.#metrics.get(name);
    if (m?.kind === 'histogram') return m.metric;
    if (!this.#room(name)) return new Histogram(this.window);
    const store = this.store;
    const slot = store.slot();
    // The block is taken at the first value, and its id written to the slot for readers.
    const h = new Histogram(this.window, () => {
      const id = store.block();
      store.write(slot, id + 1);
      return store.blockAt(id)!;
    });
    this.#add({ kind: 'histogram', metric: h, name, cache: new ExportCache(), slot });
    return h;
  }

  gauge(name: string, read: () => number): void {
    if (!this.#room(name)) return;
    this.#add({ kind: 'gauge', read, name, cache: new ExportCache(), slot: this.store.slot() });
  }

  /** Drops every metric under `scope` (an idle client or service, pruned as linkerd does). */
  removeScope(scope: string): void {
    const base = trimSlashes(scope);
    const prefix = `${base}/`;
    // Labelled scopes whose names only start like this one's (`svc/web/v2` beside `svc/web`)
    // are others': they stay.
    const others: string[] = [];
    for (const s of this.#scopes.keys()) if (s.startsWith(prefix) && !inside(this.#scopes, s, base)) others.push(s);
    // The sorted array may still hold metrics removed before: they are skipped, and left out
    // of it at the next read (a burst of removals sorts and copies nothing).
    this.#ordered ??= this.#sort();
    const ordered = this.#ordered;
    const run = this.#run(ordered, prefix);
    for (let i = run.from; i < run.to; i++) {
      const m = ordered[i]!;
      if (!others.some((o) => m.name.startsWith(`${o}/`)) && this.#metrics.get(m.name) === m) {
        this.#metrics.delete(m.name);
        this.#release(m);
        this.#stale = true;
      }
    }
    const own = this.#metrics.get(base);
    if (own !== undefined) {
      this.#metrics.delete(base);
      this.#release(own);
      this.#stale = true;
    }
    this.version++;
    for (const s of [...this.#scopes.keys()]) {
      if (s === base || (s.startsWith(prefix) && !others.some((o) => s === o || s.startsWith(`${o}/`)))) {
        this.unlabelScope(s);
      }
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

  /** The labelled scopes `name` lies in (see scopes.ts). */
  labelled(name: string): Labelled {
    return labelledName(this.#scopes, name);
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

// The metrics tree, in linkerd's (Finagle's) shape: counters, gauges and latency histograms
// under slash-separated scopes such as `rt/http/service/svc/web/requests`. Handles are looked
// up once, where a server, client or service is made, so the request path only adds numbers.
// The admin server reads the tree; dropping a scope (an idle client) drops its metrics.
// The registry holds at most `maxMetrics` names: past it, new metrics still count but are not
// exported, and `process/metrics/dropped` says how many were refused, so a flood of distinct
// names cannot grow it without bound. The numbers live in a store of shared memory
// (store.ts), so a thread of their own writes the scrapes of a large tree (export-thread.ts):
// the registry hands it each name that comes or goes (changes.ts). A gauge is a function,
// which the event loop calls before each such scrape (called-gauges.ts), or a value its owner
// sets where it changes, or a sum of such values that the thread adds up (gauge.ts): for
// those, such a scrape calls nothing on the event loop.

import { BUCKETS, Histogram, HistogramWindow } from './histogram.ts';
import { flatJson, treeOf } from './json.ts';
import { type Change, ChangeLog, changesOf } from './changes.ts';
import { Counter } from './counter.ts';
import { inside, type Labelled, labelledName } from './scopes.ts';
import { MetricStore } from './store.ts';
import { ExportCache } from './export-cache.ts';
import { Gauge, SumGauge } from './gauge.ts';
import { CalledGauges } from './called-gauges.ts';

export { Counter } from './counter.ts';
export { Histogram, HistogramWindow } from './histogram.ts';
export { RequestStats } from './request-stats.ts';
export type { HistogramSnapshot } from './histogram.ts';
export { ExportCache } from './export-cache.ts';
export { Gauge, SumGauge } from './gauge.ts';

/** `s` without trailing slashes (a loop: a regular expression here is quadratic on `///...x`). */
function trimSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 47) end--;
  return s.slice(0, end);
}

/**
 * A gauge: `read` gives its value. `held` is what keeps it when its owner sets it (a Gauge) or
 * it adds up such values (a SumGauge); undefined for a function read before each threaded
 * export. `sources` is a copy's (changes.ts) record of a sum's parts, by slot.
 */
export interface GaugeMetric {
  kind: 'gauge';
  read: () => number;
  held: Gauge | SumGauge | undefined;
  sources: { slots: readonly number[] } | undefined;
}

export type Metric = ({ kind: 'counter'; metric: Counter } | GaugeMetric | { kind: 'histogram'; metric: Histogram }) & {
  readonly name: string;
  readonly cache: ExportCache;
  /** Its value's slot in the store (a histogram's: the slot naming its block). */
  readonly slot: number;
};

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
  /** The gauges that are functions, read before each threaded export. */
  readonly #called = new CalledGauges();
  /** Where changes go once a reader follows (export-thread.ts). */
  readonly #log = new ChangeLog();

  constructor(options: RegistryOptions = {}) {
    this.window = options.window ?? new HistogramWindow();
    this.#max = options.maxMetrics ?? 100_000;
    this.store = new MetricStore(this.window.slices, BUCKETS);
    this.store.onPage = (page) => this.#log.push({ op: 'page', page });
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
    const all: Change[] = this.store.pages().map((page) => ({ op: 'page', page }));
    for (const [scope, l] of this.#scopes) all.push({ op: 'label', scope, kind: l.kind, id: l.id });
    for (const m of this.#metrics.values()) all.push(...changesOf(m));
    this.#log.follow(to, all);
  }

  /** Stops handing changes on. */
  unfollow(): void {
    this.#log.unfollow();
  }

  /** Hands the changes held on to the follower. */
  handOn(): void {
    this.#log.handOn();
  }

  /**
   * Writes the value of each gauge that is a function to its slot, for a reader in another
   * thread, `slice` at a time with `pause` awaited in between; see CalledGauges.publish.
   */
  publishGauges(slice: number, pause: () => Promise<void>, maxAgeMs = 0): Promise<void> {
    return this.#called.publish(slice, pause, maxAgeMs);
  }

  /** How many gauges are functions, read before each threaded export. */
  get calledGauges(): number {
    return this.#called.size;
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
    this.#log.push({ op: 'unlabel', scope });
  }

  /** Stops the histograms' clock. */
  close(): void {
    this.window.close();
  }

  /** Says that `scope` (`rt/<router>/client/<id>`) is the `kind` scope named `id`. */
  labelScope(scope: string, kind: string, id: string): void {
    this.#scopes.set(scope, { kind, id });
    this.version++;
    this.#log.push({ op: 'label', scope, kind, id });
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
      if (m.held === undefined) this.#called.add(m, m.read, this.store, m.slot);
      else if (m.held instanceof SumGauge) {
        const name = m.name;
        m.held.tell((slots) => this.#log.push({ op: 'sources', name, slots }));
      }
    }
    for (const c of changesOf(m)) this.#log.push(c);
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
    } else if (m.held === undefined) this.#called.remove(m);
    else if (m.held instanceof Gauge) m.held.detach();
    else m.held.tell(undefined);
    store.release(m.slot);
    this.#log.push({ op: 'drop', name: m.name });
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

  /** A gauge that is a function, called for each export (see CalledGauges). */
  gauge(name: string, read: () => number): void {
    if (!this.#room(name)) return;
    this.#add({ kind: 'gauge', read, held: undefined, sources: undefined, name, cache: new ExportCache(), slot: this.store.slot() });
  }

  /** A gauge its owner sets as its value changes: an export reads its slot and calls nothing. */
  setGauge(name: string): Gauge {
    // Past the bound it still holds its value, in memory of its own.
    if (!this.#room(name)) return new Gauge();
    const g = this.cell();
    this.#add({ kind: 'gauge', read: () => g.value, held: g, sources: undefined, name, cache: new ExportCache(), slot: g.slot });
    return g;
  }

  /** A gauge that is the sum of values in {@link cell}s, added up by the export. */
  sumGauge(name: string): SumGauge {
    const s = new SumGauge();
    if (!this.#room(name)) return s;
    this.#add({ kind: 'gauge', read: () => s.value, held: s, sources: undefined, name, cache: new ExportCache(), slot: this.store.slot() });
    return s;
  }

  /** A value in the store with no name of its own: a part of {@link sumGauge}s. */
  cell(): Gauge {
    const slot = this.store.slot();
    return new Gauge(this.store.scalarPage(slot)!, MetricStore.indexOf(slot), slot);
  }

  /** Gives a {@link cell}'s slot back; the Gauge keeps its value in memory of its own. */
  freeCell(g: Gauge): void {
    const slot = g.slot;
    if (slot < 0) return;
    g.detach();
    this.store.release(slot);
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

// How a registry is followed from another thread: the changes it hands on, in order, and the
// copy they keep. The copy's metrics read the numbers where the followed registry keeps them
// (store.ts): a counter's slot, a gauge's slot (set as it changes, or written before each
// export), a histogram's block, found through its slot once it has values; a sum gauge adds up
// the slots of its parts.

import { Counter } from './counter.ts';
import { Histogram } from './histogram.ts';
import { ExportCache } from './export-cache.ts';
import { SumGauge } from './gauge.ts';
import type { Metric, MetricsRegistry } from './metrics.ts';
import { MetricStore, type PageMessage } from './store.ts';

/** A metric's kind as a reader is told it: a sum gauge is a gauge to print, with parts to add up. */
export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'sum';

/** What a registry tells a reader in another thread (export-thread.ts), in order. */
export type Change =
  | { readonly op: 'page'; readonly page: PageMessage }
  | { readonly op: 'add'; readonly name: string; readonly kind: MetricKind; readonly slot: number }
  | { readonly op: 'drop'; readonly name: string }
  /** The slots a sum gauge adds up, from now on. */
  | { readonly op: 'sources'; readonly name: string; readonly slots: readonly number[] }
  | { readonly op: 'label'; readonly scope: string; readonly kind: string; readonly id: string }
  | { readonly op: 'unlabel'; readonly scope: string };

/** What a reader in another thread is told of a metric that comes: its kind and slot, and a sum's parts. */
export function changesOf(m: Metric): Change[] {
  if (m.kind !== 'gauge' || !(m.held instanceof SumGauge)) return [{ op: 'add', name: m.name, kind: m.kind, slot: m.slot }];
  return [
    { op: 'add', name: m.name, kind: 'sum', slot: m.slot },
    { op: 'sources', name: m.name, slots: m.held.slots() },
  ];
}

/** Changes held before they are handed on even when no export asks for them. */
export const CHANGES_HELD = 4096;

/** A registry's changes on their way to its one follower, held until handed on. */
export class ChangeLog {
  #to: ((changes: Change[]) => void) | undefined;
  #held: Change[] = [];

  /** Hands `to` the registry as it is (`all`) now, and each change pushed from then on. */
  follow(to: (changes: Change[]) => void, all: Change[]): void {
    // One follower: a second would take the changes the first one's copy needs.
    if (this.#to !== undefined) throw new Error('the metrics registry already has a follower');
    this.#to = to;
    this.#held = [];
    to(all);
  }

  unfollow(): void {
    this.#to = undefined;
    this.#held = [];
  }

  /** One change, kept only while someone follows. */
  push(c: Change): void {
    if (this.#to === undefined) return;
    this.#held.push(c);
    if (this.#held.length >= CHANGES_HELD) this.handOn();
  }

  /** Hands the changes held on to the follower. */
  handOn(): void {
    if (this.#to === undefined || this.#held.length === 0) return;
    const batch = this.#held;
    this.#held = [];
    this.#to(batch);
  }
}

/** Applies a followed registry's changes to `copy` (a registry made with `copy: true`). */
export function applyChanges(copy: MetricsRegistry, changes: readonly Change[]): void {
  const store = copy.store;
  for (const c of changes) {
    switch (c.op) {
      case 'page':
        store.adopt(c.page);
        break;
      case 'label':
        copy.labelScope(c.scope, c.kind, c.id);
        break;
      case 'unlabel':
        copy.unlabelScope(c.scope);
        break;
      case 'drop':
        copy.drop(c.name);
        break;
      case 'add':
        copy.adopt(view(copy, c.name, c.kind, c.slot));
        break;
      case 'sources': {
        const m = copy.get(c.name);
        if (m?.kind === 'gauge' && m.sources !== undefined) m.sources.slots = c.slots;
        break;
      }
    }
  }
}

function view(copy: MetricsRegistry, name: string, kind: MetricKind, slot: number): Metric {
  const store = copy.store;
  // Literals in the registry's own order: the exporters see one shape of object (a common
  // part spread into each gave them more shapes to handle, and made them slower).
  if (kind === 'counter') return { kind, metric: new Counter(store.scalarPage(slot) ?? new Float64Array(1), MetricStore.indexOf(slot)), name, cache: new ExportCache(), slot };
  if (kind === 'gauge') {
    const page = store.scalarPage(slot) ?? new Float64Array(1);
    const index = MetricStore.indexOf(slot);
    return { kind, read: () => page[index]!, held: undefined, sources: undefined, name, cache: new ExportCache(), slot };
  }
  if (kind === 'sum') {
    const sources: { slots: readonly number[] } = { slots: [] };
    const read = (): number => {
      let sum = 0;
      for (const s of sources.slots) sum += store.read(s);
      return sum;
    };
    return { kind: 'gauge', read, held: undefined, sources, name, cache: new ExportCache(), slot };
  }
  const metric = Histogram.reading(copy.window, () => {
    const handle = store.read(slot);
    return handle > 0 ? store.blockAt(handle - 1) : undefined;
  });
  return { kind, metric, name, cache: new ExportCache(), slot };
}

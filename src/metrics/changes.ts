// How a registry is followed from another thread: the changes it hands on, in order, and the
// copy they keep. The copy's metrics read the numbers where the followed registry keeps them
// (store.ts): a counter's slot, a gauge's slot (written before each export), a histogram's
// block, found through its slot once it has values.

import { Counter } from './counter.ts';
import { Histogram } from './histogram.ts';
import { ExportCache } from './export-cache.ts';
import type { Metric, MetricsRegistry } from './metrics.ts';
import { MetricStore, type PageMessage } from './store.ts';

export type MetricKind = 'counter' | 'gauge' | 'histogram';

/** What a registry tells a reader in another thread (export-thread.ts), in order. */
export type Change =
  | { readonly op: 'page'; readonly page: PageMessage }
  | { readonly op: 'add'; readonly name: string; readonly kind: MetricKind; readonly slot: number }
  | { readonly op: 'drop'; readonly name: string }
  | { readonly op: 'label'; readonly scope: string; readonly kind: string; readonly id: string }
  | { readonly op: 'unlabel'; readonly scope: string };

/** Changes held before they are handed on even when no export asks for them. */
export const CHANGES_HELD = 4096;

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
    return { kind, read: () => page[index]!, name, cache: new ExportCache(), slot };
  }
  const metric = Histogram.reading(copy.window, () => {
    const handle = store.read(slot);
    return handle > 0 ? store.blockAt(handle - 1) : undefined;
  });
  return { kind, metric, name, cache: new ExportCache(), slot };
}

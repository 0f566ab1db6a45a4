// The binding cache: bound trees by (dtab, path), kept warm while recently used and dropped when
// idle or when the cache is full (linkerd's bindingCache: 1,000 entries, idle for 10 minutes).
// A flood of distinct names therefore costs a bounded amount of memory and of namer watches.

import { LRUCache } from 'lru-cache';
import { type Activity, type ActivityState, type Closable, closeAll, NOOP_CLOSABLE, PENDING, stabilize } from '../core/index.ts';
import { type BoundName, boundTreeEquals, type Dtab, type NameTree, type Path } from '../dtab/index.ts';
import type { Interpreter } from './interpreter.ts';

export interface BindingCacheOptions {
  /** Most bindings kept (linkerd's `bindingCache.bounds`, 1000). */
  readonly max?: number;
  /** A binding not used for this long is dropped (linkerd's `idleTtlSecs`, 600 s). */
  readonly idleTtlMs?: number;
}

export const DEFAULT_BINDING_CACHE_SIZE = 1000;
export const DEFAULT_BINDING_IDLE_MS = 600_000;

interface Entry {
  readonly dtab: Dtab;
  readonly path: Path;
  readonly raw: Activity<NameTree<BoundName>>;
  readonly stable: Activity<NameTree<BoundName>>;
  /** The cache's own observation: it keeps the namers watched while the entry lives. */
  warm: Closable;
  /** The latest state of the raw binding, failures included (the stable one hides them). */
  latest: ActivityState<NameTree<BoundName>>;
}

export interface BindingState {
  readonly dtab: string;
  readonly path: string;
  readonly state: ActivityState<NameTree<BoundName>>;
}

/** How many distinct dtabs get a short key (beyond it, an equal dtab may be keyed anew). */
const DTAB_KEYS = 10_000;

export class BindingCache {
  readonly #interpreter: Interpreter;
  readonly #cache: LRUCache<string, Entry>;
  readonly #purge: NodeJS.Timeout;
  // A dtab's text can be long (20 dentries is 700 characters): hashing it on every request
  // would cost more than the rest of the lookup. Each dtab object is keyed once by a short id,
  // shared by equal dtabs.
  readonly #dtabKeys = new WeakMap<Dtab, string>();
  readonly #dtabIds = new LRUCache<string, string>({ max: DTAB_KEYS });
  #nextDtabId = 0;
  /** Bindings made because none was cached (linkerd's `bindcache/path/misses`). */
  misses = 0;
  /** Bindings dropped for room or idleness (`bindcache/path/evicts`). */
  evicts = 0;

  constructor(interpreter: Interpreter, options: BindingCacheOptions = {}) {
    this.#interpreter = interpreter;
    const ttl = options.idleTtlMs ?? DEFAULT_BINDING_IDLE_MS;
    this.#cache = new LRUCache<string, Entry>({
      max: options.max ?? DEFAULT_BINDING_CACHE_SIZE,
      ttl,
      updateAgeOnGet: true,
      dispose: (entry, _key, reason) => {
        if (reason === 'evict' || reason === 'expire') this.evicts++;
        entry.warm.close();
      },
    });
    // Idle entries are dropped by a sweep rather than a timer per entry.
    this.#purge = setInterval(() => this.purgeIdle(), Math.max(1000, Math.min(ttl, 60_000)));
    this.#purge.unref();
  }

  get size(): number {
    return this.#cache.size;
  }

  /**
   * The binding of `path` under `dtab`: once it has bound, a later failure keeps the last good
   * tree (Finagle's stabilize), so a namer outage does not take routing down; see {@link states}
   * for the failures.
   */
  get(dtab: Dtab, path: Path): Activity<NameTree<BoundName>> {
    const key = `${this.#dtabKey(dtab)} ${path.show}`;
    let entry = this.#cache.get(key);
    if (entry === undefined) {
      this.misses++;
      const raw = this.#interpreter.bind(dtab, path);
      const stable = stabilize(raw, boundTreeEquals);
      const e: Entry = { dtab, path, raw, stable, warm: NOOP_CLOSABLE, latest: PENDING };
      const rawSub = raw.observe((s) => {
        e.latest = s;
      });
      const stableSub = stable.observe(() => {});
      e.warm = closeAll([stableSub, rawSub]);
      this.#cache.set(key, e);
      entry = e;
    }
    return entry.stable;
  }

  #dtabKey(dtab: Dtab): string {
    let key = this.#dtabKeys.get(dtab);
    if (key === undefined) {
      const text = dtab.show;
      key = this.#dtabIds.get(text);
      if (key === undefined) this.#dtabIds.set(text, (key = (this.#nextDtabId++).toString(36)));
      this.#dtabKeys.set(dtab, key);
    }
    return key;
  }

  /** Every cached binding with its latest state (for state pages and tests). */
  states(): BindingState[] {
    const out: BindingState[] = [];
    for (const e of this.#cache.values()) out.push({ dtab: e.dtab.show, path: e.path.show, state: e.latest });
    return out;
  }

  /** Drops the bindings idle past the TTL now (a sweep does it every minute or TTL). */
  purgeIdle(): void {
    this.#cache.purgeStale();
  }

  /** Drops every binding and stops the sweep. */
  close(): void {
    clearInterval(this.#purge);
    this.#cache.clear();
  }
}

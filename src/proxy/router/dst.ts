// Where a request goes, as the router sees it: the logical name an identifier gave it and the
// dtabs it is bound under (spec/linkerd.md §6). Protocol-independent: HTTP/1.1 and HTTP/2 read
// the same `l5d-ctx-dtab` and `l5d-dtab` values and hand them over as text.

import { LRUCache } from 'lru-cache';
import { Dtab, type DtabCache, type Path } from '../../dtab/index.ts';
import { localDtab } from '../local-dtab.ts';

/** The dtabs of one request: the router's, the request's own, and both together. */
export interface DstDtabs {
  /** The router's dtab. */
  readonly base: Dtab;
  /** `l5d-ctx-dtab` ++ `l5d-dtab`: sent on as `l5d-ctx-dtab`. */
  readonly local: Dtab;
  /** `base ++ local`: what the name is bound under. The same object for the same header text. */
  readonly full: Dtab;
  /** The `l5d-ctx-dtab` value to send on, or undefined when `local` is empty. */
  readonly ctxHeader: string | undefined;
}

/** A request's destination: a logical name and the dtabs it is bound under. */
export interface Dst {
  readonly path: Path;
  readonly dtabs: DstDtabs;
}

/**
 * The dtabs of requests by their header text, for one router. A request without override
 * headers gets one shared object, and a repeated override costs one map lookup: the combined
 * dtab is the same object each time, so the binding cache finds it by identity.
 */
export class DstDtabCache {
  readonly none: DstDtabs;
  readonly #parsed: DtabCache;
  readonly #lru: LRUCache<string, DstDtabs>;

  constructor(base: Dtab, parsed: DtabCache, max = 1000) {
    this.none = { base, local: Dtab.empty, full: base, ctxHeader: undefined };
    this.#parsed = parsed;
    this.#lru = new LRUCache({ max });
  }

  get base(): Dtab {
    return this.none.base;
  }

  /**
   * The dtabs for these header values (each may be repeated).
   * @throws DtabHeaderError (400) when one does not parse
   */
  get(ctxValues: readonly string[] | undefined, userValues: readonly string[] | undefined): DstDtabs {
    if (ctxValues === undefined && userValues === undefined) return this.none;
    // Values cannot hold a newline (HTTP forbids it), so it separates them unambiguously.
    const key = `${ctxValues === undefined ? '' : ctxValues.join('\n')}\n\n${userValues === undefined ? '' : userValues.join('\n')}`;
    let hit = this.#lru.get(key);
    if (hit === undefined) {
      const local = localDtab(ctxValues, userValues, this.#parsed);
      hit = local.isEmpty ? this.none : { base: this.none.base, local, full: this.none.base.concat(local), ctxHeader: local.show };
      if (key.length <= this.#parsed.maxKeyLength) this.#lru.set(key, hit);
    }
    return hit;
  }
}

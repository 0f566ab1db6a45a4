// A bounded cache of parsed dtabs keyed by their raw text: `l5d-dtab` and `l5d-ctx-dtab`
// headers repeat, so a repeated header costs a lookup rather than a parse.

import { LRUCache } from 'lru-cache';
import type { Dtab } from './dtab.ts';
import { DtabParseError, readDtab } from './read.ts';

/**
 * Parsed dtabs by text, least recently used evicted past `max` entries. Malformed texts are
 * cached too, so a client repeating a bad header cannot make every request pay for a parse.
 * @example const cache = new DtabCache(1000); cache.read(req.headers['l5d-dtab'])
 */
export class DtabCache {
  readonly #lru: LRUCache<string, Dtab | DtabParseError>;
  /** Texts longer than this are parsed every time rather than kept (they would crowd the cache). */
  readonly maxKeyLength: number;

  constructor(max = 10_000, maxKeyLength = 4096) {
    this.#lru = new LRUCache({ max });
    this.maxKeyLength = maxKeyLength;
  }

  /** The dtab `text` parses to; throws the (cached) DtabParseError when it does not parse. */
  read(text: string): Dtab {
    const hit = this.#lru.get(text);
    if (hit !== undefined) {
      if (hit instanceof DtabParseError) throw hit;
      return hit;
    }
    let value: Dtab | DtabParseError;
    try {
      value = readDtab(text);
    } catch (e) {
      if (!(e instanceof DtabParseError)) throw e;
      value = e;
    }
    if (text.length <= this.maxKeyLength) this.#lru.set(text, value);
    if (value instanceof DtabParseError) throw value;
    return value;
  }

  get size(): number {
    return this.#lru.size;
  }

  clear(): void {
    this.#lru.clear();
  }
}

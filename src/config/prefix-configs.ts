// linkerd's per-prefix parameter blocks (`kind: io.l5d.static` with `configs`): each config has
// a `prefix` (a path pattern: `*` for any element, `{var}` to capture), and the parameters of
// every config whose prefix matches are merged, later configs overriding earlier ones key by
// key. `io.l5d.global` (the default) is one set of parameters for every name.

import { LRUCache } from 'lru-cache';
import { ConfigError, ConfigReader } from '../core/index.ts';
import type { Path } from '../dtab/index.ts';
import { PathMatcher, PathMatcherError } from '../namer/index.ts';

/** Parameters for every name, or per prefix. */
export interface ParamsByName<P> {
  readonly resolve: (name: Path) => P;
}

/**
 * Reads a `client` or `service` block. `readParams` reads the parameter keys of one object
 * (strictly; it pushes key paths of known but unapplied keys onto `notApplied`) and marks them
 * read. `defaults` serves an absent block.
 */
export function readParamsByName<P>(
  raw: unknown,
  at: string,
  what: string,
  defaults: P,
  readParams: (r: ConfigReader, notApplied: string[]) => P,
  notApplied: string[],
): ParamsByName<P> {
  if (raw === undefined || raw === null) return { resolve: () => defaults };
  const top = new ConfigReader(raw, at);
  const kind = top.optionalString('kind') ?? 'io.l5d.global';
  if (kind === 'io.l5d.global') {
    const params = readParams(top, notApplied);
    top.done();
    return { resolve: () => params };
  }
  if (kind !== 'io.l5d.static') throw top.error('kind', `unknown ${what} kind ${JSON.stringify(kind)}; known: io.l5d.global, io.l5d.static`);
  const entries: { matcher: PathMatcher; params: Record<string, unknown> }[] = [];
  for (const c of top.optionalList('configs') ?? []) {
    const r = new ConfigReader(c.value, c.at);
    const prefix = r.string('prefix');
    let matcher: PathMatcher;
    try {
      matcher = PathMatcher.compile(prefix);
    } catch (e) {
      if (e instanceof PathMatcherError) throw r.error('prefix', e.message);
      throw e;
    }
    // Each config's own keys are checked where they stand, so an error points at its line.
    readParams(r, notApplied);
    r.done();
    const params = { ...(c.value as Record<string, unknown>) };
    delete params.prefix;
    entries.push({ matcher, params });
  }
  top.done();
  const cache = new LRUCache<string, { value: P }>({ max: 1000 });
  return {
    resolve: (name: Path): P => {
      const key = name.show;
      const hit = cache.get(key);
      if (hit !== undefined) return hit.value;
      const merged: Record<string, unknown> = {};
      for (const e of entries) if (e.matcher.extract(name) !== undefined) Object.assign(merged, e.params);
      let value: P;
      try {
        value = readParams(new ConfigReader(merged, at), []);
      } catch (e) {
        // Every config was checked alone; a merge cannot make them invalid, but if it did the
        // defaults serve rather than a failed request.
        if (!(e instanceof ConfigError)) throw e;
        value = defaults;
      }
      cache.set(key, { value });
      return value;
    },
  };
}

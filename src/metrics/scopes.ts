// Labelled scopes: the scopes that name a server, service or client (`rt/web/client/<id>`),
// whose ids may hold slashes (`#/io.l5d.fs/web`). The exporters turn them into Prometheus
// labels and keep each id one element of the `?tree=1` form; pruning a scope spares the
// labelled scopes that only start like it.

export interface ScopeLabel {
  readonly kind: string;
  readonly id: string;
}

/** A name cut at its labelled scopes (see {@link labelledName}). */
export interface Labelled {
  readonly head: string[];
  readonly scopes: { element: string; kind: string; id: string }[];
  readonly rest: string[];
}

/**
 * The labelled scopes `name` lies in, outermost first (a client's service lies in its client),
 * each as the element naming its kind and its id; `head` is what comes before them (`rt`, the
 * router) and `rest` the metric's own elements.
 */
export function labelledName(scopes: ReadonlyMap<string, ScopeLabel>, name: string): Labelled {
  const parts = name.split('/');
  // The innermost labelled scope: the longest prefix, cut at a slash, that is one.
  let cur = parts.length - 1;
  let end = name.lastIndexOf('/');
  while (cur >= 1 && !scopes.has(name.slice(0, end))) {
    cur--;
    end = name.lastIndexOf('/', end - 1);
  }
  if (cur < 1) return { head: parts, scopes: [], rest: [] };
  const rest = parts.slice(cur);
  const found: { element: string; kind: string; id: string }[] = [];
  for (;;) {
    const s = cur >= 2 ? scopes.get(parts.slice(0, cur).join('/')) : undefined;
    if (s === undefined) break;
    cur -= s.id.split('/').length + 1;
    found.unshift({ element: parts[cur]!, kind: s.kind, id: s.id });
  }
  return { head: parts.slice(0, cur), scopes: found, rest };
}

/** Whether labelled scope `s` lies inside `base` (its parents, scope by scope, lead to it). */
export function inside(scopes: ReadonlyMap<string, ScopeLabel>, s: string, base: string): boolean {
  let cur = s;
  for (;;) {
    const l = scopes.get(cur);
    if (l === undefined) return false;
    // `<parent>/<kind>/<id>`
    const withoutId = cur.slice(0, cur.length - l.id.length - 1);
    const parent = withoutId.slice(0, withoutId.lastIndexOf('/'));
    if (parent === base) return true;
    if (!parent.startsWith(`${base}/`)) return false;
    cur = parent;
  }
}

// Binding: turning a name tree of paths into a tree of bound names (spec/dtab.md §7).
//
// These are pure functions of a lookup function, evaluated on the lookup's current state. A
// dynamic binder re-runs them whenever a lookup it used reports a change; nothing here holds
// state between calls.

import type { ActivityState } from '../core/index.ts';
import { mapVar, ok, PENDING } from '../core/index.ts';
import type { Addr, Address } from './addr.ts';
import { Addr as A, addressKey, WEIGHT_META_KEY } from './addr.ts';
import type { Dtab } from './dtab.ts';
import { NamerExceededMaxDepthError } from './errors.ts';
import type { Name } from './name.ts';
import { BoundName, sameBinding } from './name.ts';
import type { NameTree, Weighted } from './name-tree.ts';
import { Neg, simplify, treeEquals } from './name-tree.ts';
import { Path } from './path.ts';

/** Finagle's `namerMaxDepth`: at most this many lookups may be chained. */
export const DEFAULT_MAX_DEPTH = 100;

/** The current result of looking up one path: a tree of names, pending, or failed. */
export type LookupState = ActivityState<NameTree<Name>>;

/** Resolves one path (what a `Namer.lookup` does), reporting its current state. */
export type Lookup = (path: Path) => LookupState;

const NEG_STATE: LookupState = ok(Neg);

/**
 * linkerd's lookup order for a router (spec/dtab.md §7.1): the dtab first (it wins even for
 * `/#/...` paths); only when the dtab gives `~` are the namers asked (`namers` tries the
 * configured namers in order, then the system namers).
 */
export function dtabLookup(dtab: Dtab, namers: Lookup): Lookup {
  return (path) => {
    const t = dtab.lookup(path);
    return t.kind === 'neg' ? namers(path) : ok(t);
  };
}

/**
 * Binds `tree` (§7.3): paths are looked up and the results bound again, up to `maxDepth`
 * lookups deep; the result has no Alt left. An Alt takes its first branch that binds to
 * anything but `~` (a pending branch makes it pending; a failed one fails it); a union keeps
 * the branches that bound, weights included, and records each leaf's weight in its Addr
 * metadata (`namer_nametree_weight`).
 * @example bind(leaf(Path.of('svc','web')), dtabLookup(dtab, namers))
 */
export function bind(
  tree: NameTree<Name>,
  lookup: Lookup,
  maxDepth: number = DEFAULT_MAX_DEPTH,
): ActivityState<NameTree<BoundName>> {
  return bindNode(tree, lookup, maxDepth, 0, undefined);
}

function bindNode(
  tree: NameTree<Name>,
  lookup: Lookup,
  maxDepth: number,
  depth: number,
  weight: number | undefined,
): ActivityState<NameTree<BoundName>> {
  if (depth > maxDepth) return { kind: 'failed', error: new NamerExceededMaxDepthError(maxDepth) };
  switch (tree.kind) {
    case 'leaf': {
      const v = tree.value;
      if (v instanceof Path) {
        let r: LookupState;
        try {
          r = lookup(v);
        } catch (e) {
          return { kind: 'failed', error: asError(e) };
        }
        if (r.kind !== 'ok') return r;
        return bindNode(r.value, lookup, maxDepth, depth + 1, weight);
      }
      return ok({ kind: 'leaf', value: weight === undefined ? v : withWeight(v, weight) });
    }
    case 'neg':
    case 'fail':
    case 'empty':
      return ok(tree);
    case 'union': {
      const ws = tree.trees;
      if (ws.length === 0) return NEG_STATE as ActivityState<NameTree<BoundName>>;
      if (ws.length === 1) return bindNode(ws[0]!.tree, lookup, maxDepth, depth, ws[0]!.weight);
      let kept: Weighted<BoundName>[] | undefined;
      let firstFailure: ActivityState<never> | undefined;
      for (const w of ws) {
        const r = bindNode(w.tree, lookup, maxDepth, depth, w.weight);
        if (r.kind === 'ok') (kept ??= []).push({ weight: w.weight, tree: r.value });
        else if (r.kind === 'failed') firstFailure ??= r;
      }
      if (kept !== undefined) return ok(simplify({ kind: 'union', trees: kept }));
      return firstFailure ?? PENDING;
    }
    case 'alt': {
      const ts = tree.trees;
      if (ts.length === 0) return NEG_STATE as ActivityState<NameTree<BoundName>>;
      for (const t of ts) {
        const r = bindNode(t, lookup, maxDepth, depth, weight);
        if (r.kind !== 'ok' || r.value.kind !== 'neg') return r; // pending, failed, fail, or a result
      }
      return NEG_STATE as ActivityState<NameTree<BoundName>>;
    }
  }
}

/** Bound names with weights, by original name and weight: re-binding gives the same objects. */
const weightedNames = new WeakMap<BoundName, Map<number, BoundName>>();

/** The bound name with its Addr carrying `weight` in its metadata (when the Addr is bound). */
function withWeight(b: BoundName, weight: number): BoundName {
  let byWeight = weightedNames.get(b);
  if (byWeight === undefined) weightedNames.set(b, (byWeight = new Map()));
  let w = byWeight.get(weight);
  if (w === undefined) {
    const addr = mapVar(b.addr, (a: Addr): Addr =>
      a.kind === 'bound' ? A.bound(a.addrs, { ...a.meta, [WEIGHT_META_KEY]: weight }) : a,
    );
    w = new BoundName(addr, b.id, b.residual);
    byWeight.set(weight, w);
  }
  return w;
}

/** Whether two bound trees are the same binding (see {@link sameBinding}). */
export function boundTreeEquals(a: NameTree<BoundName>, b: NameTree<BoundName>): boolean {
  return treeEquals(a, b, sameBinding);
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Finagle's `Namer.resolve` on a bound tree (§7.6): `~` and `!` give Addr neg; otherwise the
 * names the tree evaluates to are merged: one name gives its own Addr (weight metadata
 * included); several give the union of the bound ones' addresses with no metadata, else neg if
 * all are neg, failed if all failed, pending otherwise. `$` gives a bound empty set.
 */
export function resolveAddr(tree: NameTree<BoundName>): Addr {
  const names = evalBound(tree);
  if (names === undefined) return A.neg;
  if (names.length === 0) return A.bound([]);
  if (names.length === 1) return names[0]!.addr.sample();
  const addrs = new Map<string, Address>();
  let anyBound = false;
  let allNeg = true;
  let allFailed = true;
  let firstFailure: Addr | undefined;
  for (const n of names) {
    const a = n.addr.sample();
    if (a.kind === 'bound') {
      anyBound = true;
      for (const x of a.addrs) addrs.set(addressKey(x), x);
    }
    if (a.kind !== 'neg') allNeg = false;
    if (a.kind !== 'failed') allFailed = false;
    else firstFailure ??= a;
  }
  if (anyBound) return A.bound([...addrs.values()]);
  if (allNeg) return A.neg;
  if (allFailed) return firstFailure!;
  return A.pending;
}

/** `eval` over bound names, de-duplicated by id as Finagle's `Set[Name.Bound]` is. */
function evalBound(tree: NameTree<BoundName>): BoundName[] | undefined {
  const acc = new Map<string, BoundName>();
  const r = collect(tree, acc);
  return r === 'some' ? [...acc.values()] : undefined;
}

function collect(tree: NameTree<BoundName>, acc: Map<string, BoundName>): 'some' | 'neg' | 'fail' {
  switch (tree.kind) {
    case 'leaf':
      if (!acc.has(tree.value.id.show)) acc.set(tree.value.id.show, tree.value);
      return 'some';
    case 'empty':
      return 'some';
    case 'neg':
      return 'neg';
    case 'fail':
      return 'fail';
    case 'alt':
      for (const t of tree.trees) {
        const r = collect(t, acc);
        if (r !== 'neg') return r;
      }
      return 'neg';
    case 'union': {
      let some = false;
      for (const w of tree.trees) if (collect(w.tree, acc) === 'some') some = true;
      return some ? 'some' : 'neg';
    }
  }
}

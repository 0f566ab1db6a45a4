// Delegation trees: how a name was rewritten, rule by rule, to what it binds to. This is the
// tree linkerd's delegator shows (spec/dtab.md §8.1, §8.2). Like bind.ts, a pure function of a
// lookup's current state; a dynamic caller re-runs it when a lookup changes.

import type { ActivityState } from '../core/index.ts';
import { ok, PENDING } from '../core/index.ts';
import { Dentry } from './dentry.ts';
import type { Dtab } from './dtab.ts';
import { DelegationDepthError } from './errors.ts';
import type { Lookup } from './bind.ts';
import type { BoundName, Name } from './name.ts';
import type { NameTree } from './name-tree.ts';
import { Path } from './path.ts';

/** Every node has the path it stands for and the dentry that produced it. */
interface NodeBase {
  readonly path: Path;
  readonly dentry: Dentry;
}

export type DelegateTree =
  | (NodeBase & { readonly kind: 'neg' })
  | (NodeBase & { readonly kind: 'fail' })
  | (NodeBase & { readonly kind: 'empty' })
  | (NodeBase & { readonly kind: 'exception'; readonly error: Error })
  | (NodeBase & { readonly kind: 'delegate'; readonly tree: DelegateTree })
  | (NodeBase & { readonly kind: 'leaf'; readonly value: BoundName })
  | (NodeBase & { readonly kind: 'alt'; readonly trees: readonly DelegateTree[] })
  | (NodeBase & { readonly kind: 'union'; readonly trees: readonly DelegateWeighted[] })
  | {
      /** A transformer's rewrite of a bound name (linkerd transformers); it has no dentry. */
      readonly kind: 'transformation';
      readonly path: Path;
      readonly name: string;
      readonly value: BoundName;
      readonly tree: DelegateTree;
    };

export interface DelegateWeighted {
  readonly weight: number;
  readonly tree: DelegateTree;
}

/** linkerd's delegator has its own depth limit, counted in lookups. */
export const DELEGATE_MAX_DEPTH = 100;

/** An unbound leaf during delegation: a path still to look up, and the rule that produced it. */
type Pre = DelegateTree | (NodeBase & { readonly kind: 'pathLeaf'; readonly value: Path });

class PendingSignal {}
const PENDING_SIGNAL = new PendingSignal();

/**
 * The delegation tree of `path` under `dtab` (§8.2): every matching dentry is followed (an
 * Alt's branches are all shown, unlike bind), namers are asked where the dtab gives `~`
 * (`namers`: configured namers, then system ones), and the tree is simplified as linkerd does.
 * Pending while any lookup it needs is pending; failed when delegation runs past its depth limit
 * outside an Alt or union (a cycle), as linkerd's delegator fails.
 */
export function delegate(dtab: Dtab, path: Path, namers: Lookup): ActivityState<DelegateTree> {
  const d = new Delegator(dtab, namers);
  try {
    const root: Pre = { kind: 'pathLeaf', path: Path.empty, dentry: Dentry.nop, value: path };
    return ok(simplifyDelegate(d.bind(root, 0)));
  } catch (e) {
    if (e === PENDING_SIGNAL) return PENDING;
    if (e instanceof DelegationDepthError) return { kind: 'failed', error: e };
    throw e;
  }
}

class Delegator {
  readonly #dtab: Dtab;
  readonly #namers: Lookup;

  constructor(dtab: Dtab, namers: Lookup) {
    this.#dtab = dtab;
    this.#namers = namers;
  }

  /** linkerd `delegateLookup`: the matching dentries (last first), else the namers' answer. */
  lookup(dentryIn: Dentry, p: Path): Pre {
    const matches: Pre[] = [];
    const ds = this.#dtab.dentries;
    for (let i = ds.length - 1; i >= 0; i--) {
      const d = ds[i]!;
      if (!d.prefix.matches(p)) continue;
      const residual = p.drop(d.prefix.size);
      matches.push(fromTree(p, d, mapResidual(d.dst, residual)));
    }
    if (matches.length === 1) return { kind: 'delegate', path: p, dentry: dentryIn, tree: matches[0] as DelegateTree };
    if (matches.length > 1) return { kind: 'alt', path: p, dentry: dentryIn, trees: matches as DelegateTree[] };
    let r: ActivityState<NameTree<Name>>;
    try {
      r = this.#namers(p);
    } catch (e) {
      return { kind: 'exception', path: p, dentry: dentryIn, error: e instanceof Error ? e : new Error(String(e)) };
    }
    if (r.kind === 'pending') throw PENDING_SIGNAL;
    if (r.kind === 'failed') return { kind: 'exception', path: p, dentry: dentryIn, error: r.error };
    if (r.value.kind === 'neg') return { kind: 'neg', path: p, dentry: dentryIn };
    return fromTree(p, dentryIn, r.value);
  }

  /** linkerd `delegateBind`. Throws DelegationDepthError past the limit. */
  bind(node: Pre, depth: number): DelegateTree {
    if (depth > DELEGATE_MAX_DEPTH) throw new DelegationDepthError();
    switch (node.kind) {
      case 'pathLeaf':
        return this.bind(this.lookup(node.dentry, node.value), depth + 1);
      case 'delegate':
        return { kind: 'delegate', path: node.path, dentry: node.dentry, tree: this.bind(node.tree, depth) };
      case 'alt': {
        const ts = node.trees;
        if (ts.length === 0) return { kind: 'neg', path: node.path, dentry: node.dentry };
        if (ts.length === 1) return { kind: 'delegate', path: node.path, dentry: node.dentry, tree: this.bind(ts[0]!, depth) };
        return { kind: 'alt', path: node.path, dentry: node.dentry, trees: ts.map((t) => this.#bindChild(node, t, depth)) };
      }
      case 'union': {
        const ws = node.trees;
        if (ws.length === 0) return { kind: 'neg', path: node.path, dentry: node.dentry };
        if (ws.length === 1) {
          return { kind: 'delegate', path: node.path, dentry: node.dentry, tree: this.bind(ws[0]!.tree, depth) };
        }
        return {
          kind: 'union',
          path: node.path,
          dentry: node.dentry,
          trees: ws.map((w) => ({ weight: w.weight, tree: this.#bindChild(node, w.tree, depth) })),
        };
      }
      default:
        return node; // neg, fail, empty, exception, bound leaves, transformations
    }
  }

  /** Every child of a multi-way node is bound; a failing one becomes an exception node. */
  #bindChild(parent: NodeBase, child: DelegateTree, depth: number): DelegateTree {
    try {
      return this.bind(child, depth);
    } catch (e) {
      if (e instanceof DelegationDepthError) return { kind: 'exception', path: parent.path, dentry: parent.dentry, error: e };
      throw e;
    }
  }
}

/** Leaves of a dentry's destination with the residual appended (as `Dtab.lookup` does). */
function mapResidual(tree: NameTree<Path>, residual: Path): NameTree<Path> {
  if (residual.isEmpty) return tree;
  switch (tree.kind) {
    case 'leaf':
      return { kind: 'leaf', value: tree.value.concat(residual) };
    case 'alt':
      return { kind: 'alt', trees: tree.trees.map((t) => mapResidual(t, residual)) };
    case 'union':
      return { kind: 'union', trees: tree.trees.map((w) => ({ weight: w.weight, tree: mapResidual(w.tree, residual) })) };
    default:
      return tree;
  }
}

/**
 * linkerd `fromTree`: a name tree as delegation nodes at `path` from dentry `d`. A `~` becomes
 * a neg node with the empty path (shown as `~`).
 */
function fromTree(path: Path, d: Dentry, tree: NameTree<Name>): Pre {
  switch (tree.kind) {
    case 'leaf':
      return tree.value instanceof Path
        ? { kind: 'pathLeaf', path, dentry: d, value: tree.value }
        : { kind: 'leaf', path, dentry: d, value: tree.value };
    case 'alt':
      return { kind: 'alt', path, dentry: d, trees: tree.trees.map((t) => fromTree(path, d, t) as DelegateTree) };
    case 'union':
      return {
        kind: 'union',
        path,
        dentry: d,
        trees: tree.trees.map((w) => ({ weight: w.weight, tree: fromTree(path, d, w.tree) as DelegateTree })),
      };
    case 'neg':
      return { kind: 'neg', path: Path.empty, dentry: d };
    case 'fail':
      return { kind: 'fail', path, dentry: d };
    case 'empty':
      return { kind: 'empty', path, dentry: d };
  }
}

/**
 * linkerd's `DelegateTree.simplified`: a Delegate whose child stands for the same path is
 * replaced by the child (taking the Delegate's dentry); one-child Alts and unions become
 * Delegates; a child Alt of an Alt with the same path is spliced into it.
 */
export function simplifyDelegate(tree: DelegateTree): DelegateTree {
  switch (tree.kind) {
    case 'delegate': {
      const t = simplifyDelegate(tree.tree);
      if (t.kind !== 'neg' && t.kind !== 'fail' && t.kind !== 'empty' && t.path.equals(tree.path)) {
        return t.kind === 'transformation' ? t : { ...t, dentry: tree.dentry };
      }
      return { kind: 'delegate', path: tree.path, dentry: tree.dentry, tree: t };
    }
    case 'alt': {
      if (tree.trees.length === 0) return { kind: 'neg', path: tree.path, dentry: tree.dentry };
      if (tree.trees.length === 1) {
        return simplifyDelegate({ kind: 'delegate', path: tree.path, dentry: tree.dentry, tree: tree.trees[0]! });
      }
      const out: DelegateTree[] = [];
      for (const child of tree.trees) {
        const s = simplifyDelegate(child);
        if (s.kind === 'alt' && s.path.equals(tree.path)) out.push(...s.trees);
        else out.push(s);
      }
      return { kind: 'alt', path: tree.path, dentry: tree.dentry, trees: out };
    }
    case 'union': {
      if (tree.trees.length === 0) return { kind: 'neg', path: tree.path, dentry: tree.dentry };
      if (tree.trees.length === 1) {
        return simplifyDelegate({ kind: 'delegate', path: tree.path, dentry: tree.dentry, tree: tree.trees[0]!.tree });
      }
      return {
        kind: 'union',
        path: tree.path,
        dentry: tree.dentry,
        trees: tree.trees.map((w) => ({ weight: w.weight, tree: simplifyDelegate(w.tree) })),
      };
    }
    case 'transformation':
      return { ...tree, tree: simplifyDelegate(tree.tree) };
    default:
      return tree;
  }
}

// The interpreter: how a router binds names (linkerd's ConfiguredNamersInterpreter). It wires
// the live namers into the pure bind and delegate of src/dtab: each runs inside a derived
// activity whose namer lookups are observed, so the result follows every namer answer it
// depends on, and stops observing the ones a new answer no longer needs.

import { type Activity, type ActivityState, derivedActivity, ok, PENDING, type Use } from '../core/index.ts';
import {
  bind,
  type BoundName,
  boundTreeEquals,
  DEFAULT_MAX_DEPTH,
  type DelegateTree,
  type Dentry,
  delegate,
  type Dtab,
  type Lookup,
  type LookupState,
  type Name,
  type NameTree,
  Path,
} from '../dtab/index.ts';
import type { ConfiguredNamer } from './registry.ts';
import type { Transformer } from './transformer.ts';

export interface Interpreter {
  /** The config kind: `default`, `io.l5d.fs`. */
  readonly kind: string;
  /** The interpreter's own dtab, in front of the one each bind is given (empty for `default`). */
  readonly dtab: Activity<Dtab>;
  /** Binds `path` under the interpreter's dtab followed by `dtab` (the router's and the request's). */
  bind(dtab: Dtab, path: Path): Activity<NameTree<BoundName>>;
  /** linkerd's delegation tree of `path` under the same dtab, with transformer steps shown. */
  delegate(dtab: Dtab, path: Path): Activity<DelegateTree>;
}

export interface ConfiguredInterpreterOptions {
  readonly kind: string;
  /** The interpreter's own dtab. */
  readonly dtab: Activity<Dtab>;
  /** In configuration order. */
  readonly namers: readonly ConfiguredNamer[];
  /** Applied to bound trees, in order. */
  readonly transformers: readonly Transformer[];
  /** The `/$/` namers. */
  readonly global: Lookup;
  readonly maxDepth?: number;
}

/** Whether a namer's answer is fully bound (linkerd applies a namer's transformers only then). */
function isBound(tree: NameTree<Name>): tree is NameTree<BoundName> {
  switch (tree.kind) {
    case 'leaf':
      return !(tree.value instanceof Path);
    case 'alt':
      return tree.trees.every(isBound);
    case 'union':
      return tree.trees.every((w) => isBound(w.tree));
    default:
      return true;
  }
}

/** Runs `tree` through `transformers` in order; a pending or failed step stops there. */
export function applyTransformers(
  tree: NameTree<BoundName>,
  transformers: readonly Transformer[],
  use: Use,
): ActivityState<NameTree<BoundName>> {
  let s: ActivityState<NameTree<BoundName>> = ok(tree);
  for (const t of transformers) {
    if (s.kind !== 'ok') return s;
    s = t.transform(s.value, use);
  }
  return s;
}

/**
 * The lookup behind a dtab (spec/dtab.md §7.1 steps 2-3): the configured namers whose prefix
 * starts the path, the last configured first, until one answers other than `~`; then the
 * system namers. Each answer is read through `use`, so the caller follows it.
 */
export function namersLookup(namers: readonly ConfiguredNamer[], global: Lookup, use: Use): Lookup {
  const lastFirst = [...namers].reverse();
  return (path): LookupState => {
    for (const n of lastFirst) {
      if (!path.startsWith(n.prefix)) continue;
      let s = use(n.namer.lookup(path.drop(n.prefix.size)));
      if (s.kind === 'ok' && n.transformers.length > 0 && isBound(s.value)) {
        s = applyTransformers(s.value, n.transformers, use);
      }
      if (s.kind !== 'ok' || s.value.kind !== 'neg') return s;
    }
    return global(path);
  };
}

/** The `default` interpreter and those built like it (`io.l5d.fs`, with its dtab from a file). */
export function configuredInterpreter(options: ConfiguredInterpreterOptions): Interpreter {
  const { namers, transformers, global } = options;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const own = options.dtab;

  /** The full dtab and the lookup behind it, or the state of a dtab not ready. */
  const prepare = (dtab: Dtab, use: Use): { full: Dtab; lookup: Lookup } | ActivityState<never> => {
    const base = use(own);
    if (base.kind !== 'ok') return base;
    const full = base.value.concat(dtab);
    const namerLookup = namersLookup(namers, global, use);
    const lookup: Lookup = (p) => {
      const t = full.lookup(p);
      return t.kind === 'neg' ? namerLookup(p) : ok(t);
    };
    return { full, lookup };
  };

  return {
    kind: options.kind,
    dtab: own,
    bind(dtab, path) {
      return derivedActivity((use) => {
        const p = prepare(dtab, use);
        if ('kind' in p) return p;
        const bound = bind({ kind: 'leaf', value: path }, p.lookup, maxDepth);
        return bound.kind === 'ok' ? applyTransformers(bound.value, transformers, use) : bound;
      }, boundTreeEquals);
    },
    delegate(dtab, path) {
      return derivedActivity((use) => {
        const p = prepare(dtab, use);
        if ('kind' in p) return p;
        let s = delegate(p.full, path, namersLookup(namers, global, use));
        for (const t of transformers) {
          if (s.kind !== 'ok') break;
          s = transformDelegate(s.value, t, use);
        }
        return s;
      });
    },
  };
}

class PendingStep {}
const PENDING_STEP = new PendingStep();

/**
 * A delegation tree with each bound leaf wrapped in a `transformation` node showing what `t`
 * makes of it (linkerd's DelegatingNameTreeTransformer). Pending while `t` is.
 */
export function transformDelegate(tree: DelegateTree, t: Transformer, use: Use): ActivityState<DelegateTree> {
  try {
    return ok(mapLeaves(tree, t, use));
  } catch (e) {
    if (e === PENDING_STEP) return PENDING;
    throw e;
  }
}

function mapLeaves(tree: DelegateTree, t: Transformer, use: Use): DelegateTree {
  switch (tree.kind) {
    case 'leaf': {
      const r = t.transformLeaf(tree.value, use);
      if (r.kind === 'pending') throw PENDING_STEP;
      const inner: DelegateTree =
        r.kind === 'failed'
          ? { kind: 'exception', path: tree.path, dentry: tree.dentry, error: r.error }
          : fromBoundTree(r.value, tree.path, tree.dentry);
      return { kind: 'transformation', path: tree.path, name: t.name, value: tree.value, tree: inner };
    }
    case 'delegate':
      return { ...tree, tree: mapLeaves(tree.tree, t, use) };
    case 'transformation':
      return { ...tree, tree: mapLeaves(tree.tree, t, use) };
    case 'alt':
      return { ...tree, trees: tree.trees.map((c) => mapLeaves(c, t, use)) };
    case 'union':
      return { ...tree, trees: tree.trees.map((w) => ({ weight: w.weight, tree: mapLeaves(w.tree, t, use) })) };
    default:
      return tree;
  }
}

/** A bound tree as delegation nodes; a leaf stands at its bound id, as linkerd shows it. */
function fromBoundTree(tree: NameTree<BoundName>, path: Path, dentry: Dentry): DelegateTree {
  switch (tree.kind) {
    case 'leaf':
      return { kind: 'leaf', path: tree.value.id, dentry, value: tree.value };
    case 'alt':
      return { kind: 'alt', path, dentry, trees: tree.trees.map((c) => fromBoundTree(c, path, dentry)) };
    case 'union':
      return {
        kind: 'union',
        path,
        dentry,
        trees: tree.trees.map((w) => ({ weight: w.weight, tree: fromBoundTree(w.tree, path, dentry) })),
      };
    case 'neg':
      return { kind: 'neg', path, dentry };
    case 'fail':
      return { kind: 'fail', path, dentry };
    case 'empty':
      return { kind: 'empty', path, dentry };
  }
}

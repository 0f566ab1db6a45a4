// NameTree<T>: the tree a dtab rewrites names into (spec/dtab.md §1, §6).
//
//   leaf(v)   a name               neg    `~` no such name here (lets an Alt fall through)
//   alt(...)  `a | b` first non-neg  fail   `!` fail here and stop
//   union(...) `w*a & b` weighted    empty  `$` exists, with no addresses
//
// Trees are immutable plain objects discriminated by `kind`. `neg`, `fail` and `empty` are
// singletons, so they compare with `===`.

/** One weighted branch of a union. */
export interface Weighted<T> {
  readonly weight: number;
  readonly tree: NameTree<T>;
}

export interface Leaf<T> {
  readonly kind: 'leaf';
  readonly value: T;
}
export interface Alt<T> {
  readonly kind: 'alt';
  readonly trees: readonly NameTree<T>[];
}
export interface Union<T> {
  readonly kind: 'union';
  readonly trees: readonly Weighted<T>[];
}
export interface Neg {
  readonly kind: 'neg';
}
export interface Fail {
  readonly kind: 'fail';
}
export interface Empty {
  readonly kind: 'empty';
}

export type NameTree<T> = Leaf<T> | Alt<T> | Union<T> | Neg | Fail | Empty;

/** The weight of a branch written without one. */
export const DEFAULT_WEIGHT = 1.0;

export const Neg: Neg = Object.freeze({ kind: 'neg' });
export const Fail: Fail = Object.freeze({ kind: 'fail' });
export const Empty: Empty = Object.freeze({ kind: 'empty' });

export function leaf<T>(value: T): Leaf<T> {
  return { kind: 'leaf', value };
}

export function alt<T>(...trees: NameTree<T>[]): Alt<T> {
  return { kind: 'alt', trees };
}

export function union<T>(...trees: Weighted<T>[]): Union<T> {
  return { kind: 'union', trees };
}

export function weighted<T>(weight: number, tree: NameTree<T>): Weighted<T> {
  return { weight, tree };
}

/** Maps every leaf value, keeping shape and weights. */
export function mapTree<T, U>(tree: NameTree<T>, f: (value: T) => U): NameTree<U> {
  switch (tree.kind) {
    case 'leaf':
      return { kind: 'leaf', value: f(tree.value) };
    case 'alt': {
      const ts = tree.trees;
      const out = new Array<NameTree<U>>(ts.length);
      for (let i = 0; i < ts.length; i++) out[i] = mapTree(ts[i]!, f);
      return { kind: 'alt', trees: out };
    }
    case 'union': {
      const ws = tree.trees;
      const out = new Array<Weighted<U>>(ws.length);
      for (let i = 0; i < ws.length; i++) {
        const w = ws[i]!;
        out[i] = { weight: w.weight, tree: mapTree(w.tree, f) };
      }
      return { kind: 'union', trees: out };
    }
    default:
      return tree;
  }
}

/**
 * Finagle's `NameTree.simplify` (§6): drops neg branches, cuts an Alt after its first fail,
 * drops fail and neg union branches, and unwraps one-child nodes (a lone union branch loses its
 * weight). Evaluation results are unchanged. Nested alts and unions are not flattened.
 */
export function simplify<T>(tree: NameTree<T>): NameTree<T> {
  switch (tree.kind) {
    case 'alt': {
      const ts = tree.trees;
      if (ts.length === 0) return Neg;
      if (ts.length === 1) return simplify(ts[0]!);
      const kept: NameTree<T>[] = [];
      for (let i = 0; i < ts.length; i++) {
        const s = simplify(ts[i]!);
        if (s.kind === 'fail') {
          kept.push(s);
          break;
        }
        if (s.kind !== 'neg') kept.push(s);
      }
      if (kept.length === 0) return Neg;
      if (kept.length === 1) return kept[0]!;
      return { kind: 'alt', trees: kept };
    }
    case 'union': {
      const ws = tree.trees;
      if (ws.length === 0) return Neg;
      if (ws.length === 1) return simplify(ws[0]!.tree);
      const kept: Weighted<T>[] = [];
      for (let i = 0; i < ws.length; i++) {
        const w = ws[i]!;
        const s = simplify(w.tree);
        if (s.kind !== 'fail' && s.kind !== 'neg') kept.push({ weight: w.weight, tree: s });
      }
      if (kept.length === 0) return Neg;
      if (kept.length === 1) return kept[0]!.tree;
      return { kind: 'union', trees: kept };
    }
    default:
      return tree;
  }
}

const FAIL_RESULT = 1;
const NEG_RESULT = 0;

/**
 * Finagle's `NameTree.eval` (§6): the set of leaf values the tree denotes, or `undefined`
 * (Finagle's `None`) when it denotes nothing (neg or fail). Alt takes its first non-neg child
 * (fail stops it); a union joins every branch and ignores fail and neg branches.
 * @example evalTree(read('/ok & !')) -> {/ok};  evalTree(read('! | /ok')) -> undefined
 */
export function evalTree<T>(tree: NameTree<T>): Set<T> | undefined {
  const r = evalNode(tree);
  return typeof r === 'number' ? undefined : r;
}

function evalNode<T>(tree: NameTree<T>): Set<T> | typeof FAIL_RESULT | typeof NEG_RESULT {
  switch (tree.kind) {
    case 'leaf':
      return new Set([tree.value]);
    case 'empty':
      return new Set();
    case 'neg':
      return NEG_RESULT;
    case 'fail':
      return FAIL_RESULT;
    case 'alt': {
      for (const t of tree.trees) {
        const r = evalNode(t);
        if (r !== NEG_RESULT) return r;
      }
      return NEG_RESULT;
    }
    case 'union': {
      let acc: Set<T> | undefined;
      for (const w of tree.trees) {
        const r = evalNode(w.tree);
        if (typeof r === 'number') continue;
        if (acc === undefined) acc = new Set(r);
        else for (const v of r) acc.add(v);
      }
      return acc ?? NEG_RESULT;
    }
  }
}

/** Structural equality, comparing leaves with `eq` and weights exactly. */
export function treeEquals<T>(a: NameTree<T>, b: NameTree<T>, eq: (x: T, y: T) => boolean): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'leaf':
      return eq(a.value, (b as Leaf<T>).value);
    case 'alt': {
      const bt = (b as Alt<T>).trees;
      if (a.trees.length !== bt.length) return false;
      for (let i = 0; i < bt.length; i++) if (!treeEquals(a.trees[i]!, bt[i]!, eq)) return false;
      return true;
    }
    case 'union': {
      const bt = (b as Union<T>).trees;
      if (a.trees.length !== bt.length) return false;
      for (let i = 0; i < bt.length; i++) {
        const x = a.trees[i]!;
        const y = bt[i]!;
        if (x.weight !== y.weight || !treeEquals(x.tree, y.tree, eq)) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

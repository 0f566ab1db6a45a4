// Dtab: an ordered list of dentries, looked up last to first (spec/dtab.md §5).

import { Dentry, showPath } from './dentry.ts';
import type { NameTree } from './name-tree.ts';
import { Neg, simplify, treeEquals } from './name-tree.ts';
import type { Path } from './path.ts';
import { showTree } from './show.ts';

const NO_DENTRIES: readonly Dentry[] = Object.freeze([]);

/**
 * An immutable delegation table. Later dentries take precedence: `lookup` walks from the last
 * entry to the first, so `base.concat(local)` lets `local` override `base`, with `base` as the
 * fallback wherever `local` resolves to `~`.
 */
export class Dtab {
  static readonly empty: Dtab = new Dtab(NO_DENTRIES);

  readonly dentries: readonly Dentry[];
  #show: string | undefined;

  constructor(dentries: readonly Dentry[]) {
    this.dentries = dentries;
    this.#show = undefined;
  }

  get size(): number {
    return this.dentries.length;
  }

  get isEmpty(): boolean {
    return this.dentries.length === 0;
  }

  /** Dentries joined by `;`, no spaces, no trailing `;`; the empty dtab prints as ``. */
  get show(): string {
    if (this.#show === undefined) {
      let s = '';
      for (let i = 0; i < this.dentries.length; i++) {
        if (i > 0) s += ';';
        s += this.dentries[i]!.show;
      }
      this.#show = s;
    }
    return this.#show;
  }

  toString(): string {
    return this.show;
  }

  /**
   * Rewrites `path` by every matching dentry, last first (§5.1). Each leaf `q` of a matching
   * destination becomes `q ++ residual`. No match gives `~`; one match its tree; several an Alt
   * of them, last dentry first, unflattened.
   * @example readDtab('/svc=>/a | /b;/svc=>/c').lookup(Path.of('svc','x')) shows '/c/x | (/a/x | /b/x)'
   */
  lookup(path: Path): NameTree<Path> {
    const ds = this.dentries;
    let first: NameTree<Path> | undefined;
    let more: NameTree<Path>[] | undefined;
    for (let i = ds.length - 1; i >= 0; i--) {
      const d = ds[i]!;
      if (!d.prefix.matches(path)) continue;
      const t = appendResidual(d.dst, path.drop(d.prefix.size));
      if (first === undefined) first = t;
      else if (more === undefined) more = [first, t];
      else more.push(t);
    }
    if (more !== undefined) return { kind: 'alt', trees: more };
    return first ?? Neg;
  }

  /** `this ++ other`: other's dentries after this one's, so other takes precedence. */
  concat(other: Dtab): Dtab {
    if (other.dentries.length === 0) return this;
    if (this.dentries.length === 0) return other;
    return new Dtab(joined(this.dentries, other.dentries));
  }

  /** This dtab with one more dentry at the end. */
  append(dentry: Dentry): Dtab {
    return new Dtab(joined(this.dentries, [dentry]));
  }

  /** Every destination simplified (§6), and dentries whose destination becomes `~` removed. */
  simplified(): Dtab {
    const out: Dentry[] = [];
    for (const d of this.dentries) {
      const s = simplify(d.dst);
      if (s.kind !== 'neg') out.push(s === d.dst ? d : new Dentry(d.prefix, s));
    }
    return new Dtab(out);
  }

  /** This dtab without a leading run of dentries equal to `prefix`'s (Finagle `stripPrefix`). */
  stripPrefix(prefix: Dtab): Dtab {
    if (this === prefix) return Dtab.empty;
    if (prefix.size === 0 || prefix.size > this.size) return this;
    for (let i = 0; i < prefix.size; i++) {
      if (!dentryEquals(this.dentries[i]!, prefix.dentries[i]!)) return this;
    }
    return new Dtab(this.dentries.slice(prefix.size));
  }

  /** Same dentries in the same order (prefixes and destinations compared structurally). */
  equals(other: Dtab): boolean {
    if (this === other) return true;
    if (this.size !== other.size) return false;
    for (let i = 0; i < this.size; i++) if (!dentryEquals(this.dentries[i]!, other.dentries[i]!)) return false;
    return true;
  }

  /** Equivalence: same prefixes and same simplified destinations (Finagle `Equiv[Dtab]`). */
  equiv(other: Dtab): boolean {
    if (this.size !== other.size) return false;
    for (let i = 0; i < this.size; i++) {
      const a = this.dentries[i]!;
      const b = other.dentries[i]!;
      if (!a.prefix.equals(b.prefix) || !treeEquals(simplify(a.dst), simplify(b.dst), pathEq)) return false;
    }
    return true;
  }
}

const pathEq = (a: Path, b: Path): boolean => a.equals(b);

/** `a` then `b` in a new array (a sized copy: `concat` is slow on short arrays). */
function joined<T>(a: readonly T[], b: readonly T[]): T[] {
  const out = new Array<T>(a.length + b.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]!;
  for (let i = 0; i < b.length; i++) out[a.length + i] = b[i]!;
  return out;
}

function dentryEquals(a: Dentry, b: Dentry): boolean {
  return a === b || (a.prefix.equals(b.prefix) && treeEquals(a.dst, b.dst, pathEq));
}

/** Every leaf `q` becomes `q ++ residual`; shapes, weights and neg/fail/empty are kept. */
function appendResidual(tree: NameTree<Path>, residual: Path): NameTree<Path> {
  if (residual.elems.length === 0) return tree;
  switch (tree.kind) {
    case 'leaf':
      return { kind: 'leaf', value: tree.value.concat(residual) };
    case 'alt': {
      const ts = tree.trees;
      const out = new Array<NameTree<Path>>(ts.length);
      for (let i = 0; i < ts.length; i++) out[i] = appendResidual(ts[i]!, residual);
      return { kind: 'alt', trees: out };
    }
    case 'union': {
      const ws = tree.trees;
      const out = new Array<{ weight: number; tree: NameTree<Path> }>(ws.length);
      for (let i = 0; i < ws.length; i++) {
        const w = ws[i]!;
        out[i] = { weight: w.weight, tree: appendResidual(w.tree, residual) };
      }
      return { kind: 'union', trees: out };
    }
    default:
      return tree;
  }
}

/** Prints a tree of paths (the lookup result, a dentry destination). */
export function showPathTree(tree: NameTree<Path>): string {
  return showTree(tree, showPath);
}

// Prefix: the left side of a dentry. Like a path, but an element may be the wildcard `*`, which
// matches exactly one path element (spec/dtab.md §1, §5.1).

import type { Path } from './path.ts';

/** The wildcard element. A literal label made of the byte `*` is the distinct element `\x2a`. */
export const ANY_ELEM = '*';

/** An immutable dentry prefix such as `/svc/*` (elements in canonical printed form, or `*`). */
export class Prefix {
  static readonly empty: Prefix = new Prefix([]);

  readonly elems: readonly string[];
  #show: string | undefined;

  constructor(elems: readonly string[]) {
    this.elems = elems;
    this.#show = undefined;
  }

  /** The printed form, e.g. `/svc/*`; `/` for the empty prefix. */
  get show(): string {
    return (this.#show ??= this.elems.length === 0 ? '/' : '/' + this.elems.join('/'));
  }

  get size(): number {
    return this.elems.length;
  }

  /** Whether this prefix matches the first `size` elements of `path` (§5.1). */
  matches(path: Path): boolean {
    const p = this.elems;
    const e = path.elems;
    if (p.length > e.length) return false;
    for (let i = 0; i < p.length; i++) {
      const x = p[i];
      if (x !== e[i] && x !== ANY_ELEM) return false;
    }
    return true;
  }

  equals(other: Prefix): boolean {
    return this.show === other.show;
  }

  toString(): string {
    return this.show;
  }
}

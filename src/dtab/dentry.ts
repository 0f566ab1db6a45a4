// Dentry: one delegation rule, `prefix => tree` (spec/dtab.md §1, §4).

import type { NameTree } from './name-tree.ts';
import { Neg } from './name-tree.ts';
import type { Path } from './path.ts';
import { Prefix } from './prefix.ts';
import { showTree } from './show.ts';

/** Prints a path leaf. */
export const showPath = (p: Path): string => p.show;

/** An immutable delegation rule. `show` has no spaces around `=>`: `/svc=>/a | /b`. */
export class Dentry {
  /**
   * linkerd's "no dentry": the prefix is the unparseable label `/` and the destination `~`. It
   * marks delegation nodes that no rule produced (spec/dtab.md §8.1).
   */
  static readonly nop: Dentry = new Dentry(new Prefix(['/']), Neg);

  readonly prefix: Prefix;
  readonly dst: NameTree<Path>;
  #dstShow: string | undefined;

  constructor(prefix: Prefix, dst: NameTree<Path>) {
    this.prefix = prefix;
    this.dst = dst;
    this.#dstShow = undefined;
  }

  /** The destination printed as a name tree. */
  get dstShow(): string {
    return (this.#dstShow ??= showTree(this.dst, showPath));
  }

  get show(): string {
    return this.prefix.show + '=>' + this.dstShow;
  }

  toString(): string {
    return this.show;
  }
}

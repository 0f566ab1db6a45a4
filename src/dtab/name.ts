// Names: a path still to be bound, or a bound name with live addresses (spec/dtab.md §1).

import type { Var } from '../core/index.ts';
import type { Addr } from './addr.ts';
import type { Path } from './path.ts';

/**
 * Finagle's `Name.Bound`: a name a namer has bound. `id` identifies it (normally the bound path
 * prefix, e.g. `/#/io.l5d.fs/web`) and is what two bound names are compared by; `residual` is
 * the rest of the requested path, which travels with the request.
 */
export class BoundName {
  readonly addr: Var<Addr>;
  readonly id: Path;
  readonly residual: Path;

  constructor(addr: Var<Addr>, id: Path, residual: Path) {
    this.addr = addr;
    this.id = id;
    this.residual = residual;
  }

  /** Two bound names are the same name when their ids are equal. */
  equals(other: BoundName): boolean {
    return this === other || this.id.equals(other.id);
  }
}

/**
 * Whether two bound names are the same binding: the same object, or the same id and residual
 * over the same address source. Stricter than {@link BoundName.equals}; used to tell whether a
 * re-run binding changed anything.
 */
export function sameBinding(a: BoundName, b: BoundName): boolean {
  return a === b || (a.addr === b.addr && a.id.equals(b.id) && a.residual.equals(b.residual));
}

/** A name in a tree a namer returns: a path to look up again, or a bound name. */
export type Name = Path | BoundName;

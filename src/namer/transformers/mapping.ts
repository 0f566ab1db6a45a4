// Transformers that change each bound name on its own (its id and its addresses), with no
// state of their own: `io.l5d.port` rewrites ports, `io.l5d.localhost` and
// `io.l5d.specificHost` keep only some addresses.

import { type ActivityState, derivedVar, ok, type Var } from '../../core/index.ts';
import { Addr, addrEquals, BoundName, leaf, mapTree, type NameTree, type Path } from '../../dtab/index.ts';
import type { Transformer } from '../transformer.ts';

/** What becomes of one Addr: `use` reads any Var the mapping itself depends on. */
export type AddrMapping = (addr: Addr, use: <U>(v: Var<U>) => U) => Addr;

/**
 * A transformer that maps every bound leaf to a name with id `prefix ++ id` whose addresses
 * are `mapAddr` of the original's, following the original as it changes. The same input name
 * always gives the same output name (kept while the input lives), so re-binding an unchanged
 * tree yields an equal tree and nothing downstream is redone.
 */
export function mappingTransformer(kind: string, name: string, prefix: Path, mapAddr: AddrMapping): Transformer {
  const mapped = new WeakMap<BoundName, BoundName>();
  const mapBound = (b: BoundName): BoundName => {
    let out = mapped.get(b);
    if (out === undefined) {
      const source = b.addr;
      const addr = derivedVar<Addr>(Addr.pending, (use) => mapAddr(use(source), use), addrEquals);
      out = new BoundName(addr, prefix.concat(b.id), b.residual);
      mapped.set(b, out);
    }
    return out;
  };
  return {
    kind,
    name,
    prefix,
    transform: (tree: NameTree<BoundName>): ActivityState<NameTree<BoundName>> => ok(mapTree(tree, mapBound)),
    transformLeaf: (bound: BoundName): ActivityState<NameTree<BoundName>> => ok(leaf(mapBound(bound))),
  };
}

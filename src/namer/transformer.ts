// Transformers: rewrites applied to bound trees after binding (linkerd's NameTreeTransformer),
// configured under an interpreter or a namer. Each one prefixes the ids of the names it
// changes with `/%/<kind>/...`, as linkerd does, so client configuration can tell them apart.

import type { Activity, ActivityState, ConfigReader, Log, Use } from '../core/index.ts';
import type { BoundName, NameTree, Path } from '../dtab/index.ts';
import type { Resolver } from './inet.ts';

export interface Transformer {
  /** The config `kind`, e.g. `io.l5d.port`. */
  readonly kind: string;
  /** The name delegation trees show for it (linkerd's transformer class name). */
  readonly name: string;
  /** `/%` followed by the configured or default prefix, e.g. `/%/io.l5d.port/4141`. */
  readonly prefix: Path;
  /**
   * The transformed tree. `use` reads any Activity the transformer depends on (a replacement
   * binding), so the caller re-runs it when that changes.
   */
  transform(tree: NameTree<BoundName>, use: Use): ActivityState<NameTree<BoundName>>;
  /** What one bound leaf becomes, for the `transformation` nodes of delegation trees. */
  transformLeaf(bound: BoundName, use: Use): ActivityState<NameTree<BoundName>>;
}

export interface TransformerContext {
  /** `/%` ++ (configured prefix or the kind's default). */
  readonly prefix: Path;
  readonly resolver: Resolver;
  readonly log: Log;
  /** Binds a path with no dtab, through the system namers (linkerd's global interpreter). */
  readonly bindGlobal: (path: Path) => Activity<NameTree<BoundName>>;
}

export interface TransformerKind<C> {
  readonly kind: string;
  /** Default prefix (after `/%`), which may depend on the config (`/io.l5d.port/<port>`). */
  defaultPrefix(config: C): Path;
  parseConfig(config: ConfigReader): C;
  create(config: C, ctx: TransformerContext): Transformer;
}

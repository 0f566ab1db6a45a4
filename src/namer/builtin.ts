// The kinds dtabd ships: the registry of namers and transformers a config may name, and the
// `/$/` namers with linkerd's bundled system namers.

import { type Activity, derivedActivity } from '../core/index.ts';
import { bind, type BoundName, boundTreeEquals, type Lookup, type NameTree, type Path } from '../dtab/index.ts';
import { fsNamerKind } from './fs/index.ts';
import { globalNamer, type GlobalNamerOptions } from './global.ts';
import { systemResolver } from './inet.ts';
import type { NamerKind } from './namer.ts';
import { NamerRegistry } from './registry.ts';
import { rewriteNamerKind } from './rewrite.ts';
import { systemNamers } from './system/index.ts';
import type { TransformerKind } from './transformer.ts';
import { transformerKinds } from './transformers/index.ts';

/** Every namer and transformer kind dtabd provides. */
export function builtinRegistry(): NamerRegistry {
  return new NamerRegistry(
    [fsNamerKind, rewriteNamerKind] as NamerKind<unknown>[],
    [...transformerKinds] as TransformerKind<unknown>[],
  );
}

/** The `/$/` namers: inet, fixedinet, nil, fail, and linkerd's `io.buoyant.*` rewriting namers. */
export function systemLookup(options: Omit<GlobalNamerOptions, 'systemNamers'> = {}): Lookup {
  const resolver = options.resolver ?? systemResolver;
  return globalNamer({ ...options, resolver, systemNamers: systemNamers(resolver) });
}

/** Binding with no dtab through `global` (linkerd's global interpreter). */
export function globalBinder(global: Lookup): (path: Path) => Activity<NameTree<BoundName>> {
  return (path) => derivedActivity(() => bind({ kind: 'leaf', value: path }, global), boundTreeEquals);
}

// `io.l5d.replace` and `io.l5d.const`: put the binding of a fixed path in place of what was
// bound, e.g. to send every name through one egress proxy. `replace` swaps each bound leaf
// (a name that did not bind stays unbound); `const` swaps the whole tree, unbound or not.

import { type Activity, type ActivityState, type ConfigReader, mapActivity, ok, type Use } from '../../core/index.ts';
import {
  alt,
  BoundName,
  boundTreeEquals,
  mapTree,
  type NameTree,
  type Path,
  readPath,
  union,
  weighted,
} from '../../dtab/index.ts';
import { readPathKey } from '../registry.ts';
import type { Transformer, TransformerContext, TransformerKind } from '../transformer.ts';

export interface FixedPathConfig {
  /** The path bound in place of the tree, through the system namers (`/$/inet/egress/3128`). */
  readonly path: Path;
}

function parseFixedPath(config: ConfigReader): FixedPathConfig {
  const path = readPathKey(config, 'path');
  if (path === undefined) throw config.error('path', 'is required (the path to bind instead, e.g. /$/inet/127.1/4140)');
  return { path };
}

/**
 * The binding of the configured path with no dtab, its names given the id `prefix ++ path`
 * (so client configuration can tell them apart), kept the same while observed.
 */
function replacement(config: FixedPathConfig, ctx: TransformerContext): Activity<NameTree<BoundName>> {
  const id = ctx.prefix.concat(config.path);
  return mapActivity(ctx.bindGlobal(config.path), (tree) => mapTree(tree, (b) => new BoundName(b.addr, id, b.residual)), boundTreeEquals);
}

/** Every leaf of `tree` replaced by `by`; neg, fail and empty stay. */
function replaceLeaves(tree: NameTree<BoundName>, by: NameTree<BoundName>): NameTree<BoundName> {
  switch (tree.kind) {
    case 'leaf':
      return by;
    case 'alt':
      return alt(...tree.trees.map((t) => replaceLeaves(t, by)));
    case 'union':
      return union(...tree.trees.map((w) => weighted(w.weight, replaceLeaves(w.tree, by))));
    default:
      return tree;
  }
}

function fixedPathTransformer(
  kind: string,
  name: string,
  config: FixedPathConfig,
  ctx: TransformerContext,
  apply: (tree: NameTree<BoundName>, by: NameTree<BoundName>) => NameTree<BoundName>,
): Transformer {
  const by = replacement(config, ctx);
  const withReplacement = (use: Use, f: (r: NameTree<BoundName>) => NameTree<BoundName>): ActivityState<NameTree<BoundName>> => {
    const s = use(by);
    return s.kind === 'ok' ? ok(f(s.value)) : s;
  };
  return {
    kind,
    name,
    prefix: ctx.prefix,
    transform: (tree, use) => withReplacement(use, (r) => apply(tree, r)),
    transformLeaf: (_bound, use) => withReplacement(use, (r) => r),
  };
}

export const replaceTransformerKind: TransformerKind<FixedPathConfig> = {
  kind: 'io.l5d.replace',
  defaultPrefix: () => readPath('/io.l5d.replace'),
  parseConfig: parseFixedPath,
  create: (config, ctx) => fixedPathTransformer('io.l5d.replace', 'ReplaceTransformer', config, ctx, replaceLeaves),
};

export const constTransformerKind: TransformerKind<FixedPathConfig> = {
  kind: 'io.l5d.const',
  defaultPrefix: () => readPath('/io.l5d.const'),
  parseConfig: parseFixedPath,
  create: (config, ctx) => fixedPathTransformer('io.l5d.const', 'ConstTransformer', config, ctx, (_tree, by) => by),
};

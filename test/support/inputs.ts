// Shared makers of test inputs: a replayable random source, the texts of the conformance
// vectors, and fast-check arbitraries of name trees. Not a test file itself.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Empty, Fail, type NameTree, Neg, type Path } from '../../src/dtab/index.ts';

/** A small seeded PRNG (xorshift32): the same seed gives the same inputs, so a failure replays. */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

interface VectorTexts {
  input?: unknown;
  dtab?: unknown;
  local?: unknown;
  base?: unknown;
  path?: unknown;
}

/** Every distinct text field (inputs, dtabs, paths) of the conformance vectors kept in test/. */
export function vectorTexts(): string[] {
  const cases = JSON.parse(readFileSync(new URL('../conformance/dtab-vectors.json', import.meta.url), 'utf8')) as VectorTexts[];
  const texts = cases.flatMap((c) => [c.input, c.dtab, c.local, c.base, c.path]);
  return [...new Set(texts.filter((s): s is string => typeof s === 'string'))];
}

/**
 * Name trees over `path` leaves: Neg, Fail and Empty, and alternations and unions of 2 to
 * `maxChildren` children (what the printer can print and the reader read back) with `weight`.
 */
export function treeArbitrary(
  path: fc.Arbitrary<Path>,
  weight: fc.Arbitrary<number>,
  { maxDepth, maxChildren }: { maxDepth: number; maxChildren: number },
): fc.Arbitrary<NameTree<Path>> {
  const { tree } = fc.letrec<{ tree: NameTree<Path>; alt: NameTree<Path>; union: NameTree<Path> }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', maxDepth, withCrossShrink: true },
      path.map((value): NameTree<Path> => ({ kind: 'leaf', value })),
      fc.constantFrom<NameTree<Path>>(Neg, Fail, Empty),
      tie('alt'),
      tie('union'),
    ),
    alt: fc.array(tie('tree'), { minLength: 2, maxLength: maxChildren }).map((trees): NameTree<Path> => ({ kind: 'alt', trees })),
    union: fc
      .array(fc.record({ weight, tree: tie('tree') }), { minLength: 2, maxLength: maxChildren })
      .map((trees): NameTree<Path> => ({ kind: 'union', trees })),
  }));
  return tree;
}

// Property tests for Dtab.lookup (spec/dtab.md §5.1) on generated dtabs, with wildcard prefixes
// and arbitrary destination trees, and generated paths drawn from a small alphabet so that
// prefixes match often. Checked against the spec's invariants and against a reference lookup
// written here from the spec. Runs are seeded (set FC_SEED to explore other seeds).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ANY_ELEM,
  Dentry,
  Dtab,
  type NameTree,
  Neg,
  Path,
  Prefix,
  readDtab,
  readPath,
  showPathTree,
  treeEquals,
} from '../../src/dtab/index.ts';
import { treeArbitrary } from '../support/inputs.ts';

const SEED = Number(process.env.FC_SEED ?? 0x100c);
const params = { seed: SEED, numRuns: 5000 };

/** A few elements, including a literal `*` byte (`\x2a`, distinct from the wildcard) and an escaped space. */
const ELEMS = ['a', 'b', 'c', '\\x2a', '\\x20'];
const elem = fc.constantFrom(...ELEMS);

const pathElems = fc.array(elem, { maxLength: 4 });
const prefixElems = fc.array(fc.oneof({ weight: 3, arbitrary: elem }, { weight: 1, arbitrary: fc.constant(ANY_ELEM) }), { maxLength: 3 });
const dstPath = fc.array(fc.constantFrom('x', 'y', 'z', 'a', '\\xff'), { maxLength: 3 }).map((elems) => new Path(elems));
const weight = fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 1000 }).map((c) => c / 100));

const tree = treeArbitrary(dstPath, weight, { maxDepth: 4, maxChildren: 3 });

interface Entry {
  prefix: readonly string[];
  dst: NameTree<Path>;
}

const entries = fc.array(fc.record({ prefix: prefixElems, dst: tree }), { maxLength: 6 });

function toDtab(es: readonly Entry[]): Dtab {
  return new Dtab(es.map((e) => new Dentry(new Prefix(e.prefix), e.dst)));
}

// ---- reference implementation, written from spec/dtab.md §5.1 ----

function refMatches(prefix: readonly string[], path: readonly string[]): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((p, i) => p === '*' || p === path[i]);
}

function refAppend(t: NameTree<Path>, residual: readonly string[]): NameTree<Path> {
  switch (t.kind) {
    case 'leaf':
      return { kind: 'leaf', value: new Path([...t.value.elems, ...residual]) };
    case 'alt':
      return { kind: 'alt', trees: t.trees.map((c) => refAppend(c, residual)) };
    case 'union':
      return { kind: 'union', trees: t.trees.map((w) => ({ weight: w.weight, tree: refAppend(w.tree, residual) })) };
    default:
      return t;
  }
}

function refLookup(es: readonly Entry[], path: readonly string[]): NameTree<Path> {
  const found: NameTree<Path>[] = [];
  for (let i = es.length - 1; i >= 0; i--) {
    const e = es[i]!;
    if (refMatches(e.prefix, path)) found.push(refAppend(e.dst, path.slice(e.prefix.length)));
  }
  if (found.length === 0) return Neg;
  if (found.length === 1) return found[0]!;
  return { kind: 'alt', trees: found };
}

// ---- helpers ----

function leaves(t: NameTree<Path>): Path[] {
  switch (t.kind) {
    case 'leaf':
      return [t.value];
    case 'alt':
      return t.trees.flatMap(leaves);
    case 'union':
      return t.trees.flatMap((w) => leaves(w.tree));
    default:
      return [];
  }
}

function endsWith(p: Path, suffix: readonly string[]): boolean {
  const e = p.elems;
  if (suffix.length > e.length) return false;
  for (let i = 0; i < suffix.length; i++) if (e[e.length - suffix.length + i] !== suffix[i]) return false;
  return true;
}

const pathEq = (a: Path, b: Path): boolean => a.equals(b);

function describeCase(es: readonly Entry[], path: Path): string {
  return `dtab ${JSON.stringify(toDtab(es).show)} at ${JSON.stringify(path.show)}`;
}

const cases = fc.tuple(entries, pathElems).map(([es, p]) => ({ es, path: new Path(p) }));

describe('Dtab.lookup on generated dtabs (fast-check, seed ' + SEED + ')', () => {
  test('lookup never throws, and gives ~ exactly when no prefix matches (or the one match is ~)', () => {
    fc.assert(
      fc.property(cases, ({ es, path }) => {
        let result: NameTree<Path>;
        try {
          result = toDtab(es).lookup(path);
        } catch (e) {
          assert.fail(`lookup threw ${String(e)} for ${describeCase(es, path)}`);
        }
        const matching = es.filter((e) => refMatches(e.prefix, path.elems));
        if (matching.length === 0) {
          assert.equal(result.kind, 'neg', `no dentry matches, yet the result is ${showPathTree(result)} for ${describeCase(es, path)}`);
        } else if (!(matching.length === 1 && matching[0]!.dst.kind === 'neg')) {
          assert.notEqual(result.kind, 'neg', `${matching.length} dentries match, yet the result is ~ for ${describeCase(es, path)}`);
        }
      }),
      params,
    );
  });

  test("every leaf of the result is a matching dentry's destination leaf followed by that dentry's residual", () => {
    fc.assert(
      fc.property(cases, ({ es, path }) => {
        const result = toDtab(es).lookup(path);
        const matching = es.filter((e) => refMatches(e.prefix, path.elems));
        for (const leaf of leaves(result)) {
          const explained = matching.some((e) => {
            const residual = path.elems.slice(e.prefix.length);
            return endsWith(leaf, residual) && leaves(e.dst).some((q) => q.concat(new Path(residual)).equals(leaf));
          });
          assert.ok(explained, `leaf ${leaf.show} is no matching destination plus its residual, for ${describeCase(es, path)}`);
        }
      }),
      params,
    );
  });

  test('several matches give one top-level alternative per matching dentry, last dentry first', () => {
    fc.assert(
      fc.property(cases, ({ es, path }) => {
        const result = toDtab(es).lookup(path);
        const matching = es.filter((e) => refMatches(e.prefix, path.elems));
        if (matching.length < 2) return;
        assert.equal(result.kind, 'alt', `${matching.length} matches did not give an alternation for ${describeCase(es, path)}`);
        if (result.kind !== 'alt') return;
        assert.equal(result.trees.length, matching.length, `wrong number of alternatives for ${describeCase(es, path)}`);
        const last = matching[matching.length - 1]!;
        const residual = new Path(path.elems.slice(last.prefix.length));
        assert.equal(
          leaves(result.trees[0]!).length,
          leaves(last.dst).length,
          `the first alternative is not the last matching dentry for ${describeCase(es, path)}`,
        );
        for (const leaf of leaves(result.trees[0]!)) assert.ok(endsWith(leaf, residual.elems));
      }),
      params,
    );
  });

  test('lookup agrees with a reference implementation written from the spec', () => {
    fc.assert(
      fc.property(cases, ({ es, path }) => {
        const actual = toDtab(es).lookup(path);
        const expected = refLookup(es, path.elems);
        assert.equal(showPathTree(actual), showPathTree(expected), `lookup differs from the reference for ${describeCase(es, path)}`);
        assert.ok(treeEquals(actual, expected, pathEq), `lookup has another structure than the reference for ${describeCase(es, path)}`);
      }),
      params,
    );
  });

  test('a dtab read back from its printed form looks up the same, at a path read from its printed form', () => {
    fc.assert(
      fc.property(cases, ({ es, path }) => {
        const d = toDtab(es);
        const reread = readDtab(d.show).lookup(readPath(path.show));
        assert.equal(showPathTree(reread), showPathTree(d.lookup(path)), `the re-read dtab looks up differently for ${describeCase(es, path)}`);
      }),
      params,
    );
  });

  test('the generated cases match often enough to test something', () => {
    const sample = fc.sample(cases, { seed: SEED, numRuns: 1000 });
    const counts = sample.map(({ es, path }) => es.filter((e) => refMatches(e.prefix, path.elems)).length);
    assert.ok(counts.filter((n) => n === 0).length >= 50, 'too few generated cases without a match');
    assert.ok(counts.filter((n) => n === 1).length >= 100, 'too few generated cases with exactly one match');
    assert.ok(counts.filter((n) => n >= 2).length >= 100, 'too few generated cases with several matches');
    const wildcardMatches = sample.filter(({ es, path }) => es.some((e) => e.prefix.includes(ANY_ELEM) && refMatches(e.prefix, path.elems)));
    assert.ok(wildcardMatches.length >= 100, 'too few generated cases where a wildcard prefix matches');
  });
});

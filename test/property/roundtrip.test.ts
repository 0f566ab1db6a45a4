// Property tests: printing and reading are inverse. For arbitrary name trees (paths with raw
// label characters and arbitrary bytes, so escaping is exercised; nested alts and unions of at
// least two children; weights with at most two decimals), reading the printed form gives the
// same tree, and printing is a fixpoint; the same for dtabs, dentries, prefixes and paths.
// Runs are seeded (set FC_SEED to explore other seeds); fast-check prints the seed and the
// shrunk counterexample on failure.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ANY_ELEM,
  Dentry,
  Dtab,
  type NameTree,
  Path,
  Prefix,
  readDentry,
  readDtab,
  readNameTree,
  readPath,
  readPrefix,
  showPathTree,
  treeEquals,
} from '../../src/dtab/index.ts';
import { treeArbitrary } from '../support/inputs.ts';

const SEED = Number(process.env.FC_SEED ?? 0x0d7ab);
const RUNS = 4000;
const params = { seed: SEED, numRuns: RUNS };

/** The 69 characters a label may hold raw (spec/dtab.md §2.1). */
const LABEL_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_:.#$%-';
const LABEL_CODES = new Set([...LABEL_CHARS].map((c) => c.charCodeAt(0)));

/** Canonical element of a byte string (§4): raw when every byte is a label char, else `\xNN` each. */
function canonicalElem(bytes: Uint8Array): string {
  if (bytes.every((b) => LABEL_CODES.has(b))) return String.fromCharCode(...bytes);
  return [...bytes].map((b) => '\\x' + b.toString(16).padStart(2, '0')).join('');
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

const rawLabel = fc.string({ unit: fc.constantFrom(...LABEL_CHARS), minLength: 1, maxLength: 8 });
/** Bytes that must be escaped mixed with label bytes: `/`, `*`, `\`, space, NUL, 0xff, UTF-8. */
const awkwardBytes = fc
  .array(fc.oneof(fc.constantFrom(0x2f, 0x2a, 0x5c, 0x20, 0x00, 0xff, 0x0a, 0x7f, 0x80), fc.constantFrom(...LABEL_CODES)), {
    minLength: 1,
    maxLength: 6,
  })
  .map((bs) => Uint8Array.from(bs));
const elem: fc.Arbitrary<string> = fc.oneof(
  rawLabel,
  fc.uint8Array({ minLength: 1, maxLength: 6 }).map(canonicalElem),
  awkwardBytes.map(canonicalElem),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }).map((s) => canonicalElem(utf8(s))),
);
const path: fc.Arbitrary<Path> = fc.array(elem, { maxLength: 5 }).map((elems) => new Path(elems));

/** Weights with at most two decimals: integer cents / 100, with 1.0 and 0 often. */
const weight = fc.oneof(fc.constant(1), fc.constant(0), fc.integer({ min: 0, max: 100_000 }).map((cents) => cents / 100));

const tree = treeArbitrary(path, weight, { maxDepth: 5, maxChildren: 4 });

const prefix: fc.Arbitrary<Prefix> = fc
  .array(fc.oneof(elem, fc.constant(ANY_ELEM), fc.constant('\\x2a')), { maxLength: 5 })
  .map((elems) => new Prefix(elems));
const dentry = fc.tuple(prefix, tree).map(([p, t]) => new Dentry(p, t));
const dtab = fc.array(dentry, { maxLength: 5 }).map((ds) => new Dtab(ds));

const pathEq = (a: Path, b: Path): boolean => a.equals(b);

/** A separator where the grammar skips whitespace: Java whitespace, possibly with a comment. */
const sep = fc.constantFrom('', '', '', ' ', '  ', '\t', '\n', '\r\n', '\u3000', '\u2000', '\u001f', ' # a comment | ( ~\n', '\n#\n');

/**
 * A printer that writes `t` with arbitrary whitespace, comments, redundant parentheses and
 * explicit `1` weights: another spelling of the same tree (parentheses make no node).
 */
function spelled(t: NameTree<Path>): fc.Arbitrary<string> {
  const compound = (x: NameTree<Path>): boolean => x.kind === 'alt' || x.kind === 'union';
  const paren = (inner: fc.Arbitrary<string>): fc.Arbitrary<string> =>
    fc.tuple(sep, inner, sep).map(([a, s, b]) => '(' + a + s + b + ')');
  const maybeParen = (inner: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.oneof(inner, paren(inner));
  const simple = (x: NameTree<Path>): fc.Arbitrary<string> => {
    switch (x.kind) {
      case 'leaf':
        return maybeParen(fc.constant(x.value.show));
      case 'neg':
        return maybeParen(fc.constant('~'));
      case 'fail':
        return maybeParen(fc.constant('!'));
      case 'empty':
        return maybeParen(fc.constant('$'));
      default:
        return paren(top(x));
    }
  };
  const top = (x: NameTree<Path>): fc.Arbitrary<string> => {
    if (x.kind === 'alt') {
      return fc
        .tuple(...x.trees.map((c) => (c.kind === 'union' ? maybeParen(top(c)) : simple(c))), fc.array(sep, { minLength: 2 * x.trees.length, maxLength: 2 * x.trees.length }))
        .map(([...parts]) => {
          const seps = parts.pop() as string[];
          return (parts as string[]).map((p, i) => (i > 0 ? seps[2 * i]! + '|' + seps[2 * i + 1]! : '') + p).join('');
        });
    }
    if (x.kind === 'union') {
      const branches = x.trees.map((w) =>
        fc.tuple(fc.boolean(), sep, sep, sep, compound(w.tree) ? paren(top(w.tree)) : simple(w.tree)).map(([explicit, a, b, c, s]) =>
          w.weight !== 1 || explicit ? String(w.weight) + a + '*' + b + c + s : c + s,
        ),
      );
      return fc.tuple(...branches, sep).map(([...parts]) => {
        const s = parts.pop() as string;
        return (parts as string[]).join(s + '&' + s);
      });
    }
    return simple(x);
  };
  return fc.tuple(sep, top(t), sep).map(([a, s, b]) => a + s + b);
}

describe('printing and reading are inverse (fast-check, seed ' + SEED + ')', () => {
  test('reading the printed form of a name tree gives a structurally equal tree', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const shown = showPathTree(t);
        const back = readNameTree(shown);
        assert.ok(treeEquals(back, t, pathEq), `${JSON.stringify(shown)} reads back as ${JSON.stringify(showPathTree(back))}, a different tree`);
      }),
      params,
    );
  });

  test('printing a name tree is a fixpoint of reading and printing', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const shown = showPathTree(t);
        assert.equal(showPathTree(readNameTree(shown)), shown, 'printing the re-read tree changes the text');
      }),
      params,
    );
  });

  test('whitespace, comments, redundant parentheses and explicit unit weights do not change the tree read', () => {
    fc.assert(
      fc.property(
        tree.chain((t) => fc.tuple(fc.constant(t), spelled(t))),
        ([t, text]) => {
          const back = readNameTree(text);
          assert.ok(treeEquals(back, t, pathEq), `${JSON.stringify(text)} reads as ${JSON.stringify(showPathTree(back))}, not ${JSON.stringify(showPathTree(t))}`);
        },
      ),
      params,
    );
  });

  test('reading the printed form of a dtab gives an equal dtab with the same printed form', () => {
    fc.assert(
      fc.property(dtab, (d) => {
        const back = readDtab(d.show);
        assert.equal(back.show, d.show, 'the re-read dtab prints differently');
        assert.equal(back.size, d.size, 'the re-read dtab has a different number of entries');
        assert.ok(back.equals(d), `${JSON.stringify(d.show)} reads back as a different dtab`);
        if (d.size > 0) assert.equal(readDtab(d.show + ';').show, d.show, 'a trailing semicolon changes the dtab');
      }),
      params,
    );
  });

  test('reading the printed form of a dentry gives the same prefix and destination', () => {
    fc.assert(
      fc.property(dentry, (e) => {
        const back = readDentry(e.show);
        assert.equal(back.prefix.show, e.prefix.show, 'the prefix changed');
        assert.ok(treeEquals(back.dst, e.dst, pathEq), `${JSON.stringify(e.show)} reads back with a different destination`);
      }),
      params,
    );
  });

  test('reading the printed form of a prefix gives the same elements, wildcards included', () => {
    fc.assert(
      fc.property(prefix, (p) => {
        const back = readPrefix(p.show);
        assert.deepEqual(back.elems, p.elems, `${JSON.stringify(p.show)} reads back with other elements`);
        assert.ok(back.equals(p));
      }),
      params,
    );
  });

  test('reading the printed form of a path gives an equal path', () => {
    fc.assert(
      fc.property(path, (p) => {
        const back = readPath(p.show);
        assert.ok(back.equals(p), `${JSON.stringify(p.show)} reads back as ${JSON.stringify(back.show)}`);
        assert.equal(back.show, p.show);
      }),
      params,
    );
  });

  test('Path.of encodes any text label as its UTF-8 bytes and reads back equal', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }), { maxLength: 4 }), (labels) => {
        const p = Path.of(...labels);
        assert.deepEqual(p.elems, labels.map((l) => canonicalElem(utf8(l))), 'Path.of gave elements other than the escaped UTF-8 bytes');
        assert.ok(readPath(p.show).equals(p), `${JSON.stringify(p.show)} reads back as a different path`);
      }),
      params,
    );
  });
});

// Fuzzing the five read functions with seeded random inputs: conformance inputs mutated with the
// characters the grammar cares about, and purely random strings. Every call must return a value
// or throw DtabParseError (with an offset inside the input), and whatever parses must print to
// text that reads back to the same printed form. Set FUZZ_SEED to replay another seed; a failure
// names the seed and the input.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DtabParseError,
  formatWeight,
  type NameTree,
  type Path,
  readDentry,
  readDtab,
  readNameTree,
  readPath,
  readPrefix,
  showPathTree,
} from '../../src/dtab/index.ts';
import { xorshift32, vectorTexts } from '../support/inputs.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 0xf022) >>> 0;
const MUTATED_INPUTS = 80_000;
const RANDOM_INPUTS = 30_000;

/** The seed corpus: every text field of the conformance cases, plus a few shapes they lack. */
const CORPUS: string[] = [
  ...new Set([
    ...vectorTexts(),
    '/svc/*/web => /srv/a | 0.25*/b & 0.75*(/c | ~) ; # comment\n/x=>!',
    '/a => ((/b)) & 2*$ | (/c & /d) | (/e | /f)',
    '/\\x2a/\\x2f/\\xc3\\xa9 => /#/io.l5d.fs/\\x20',
    '1.*/a & .5*/b & 007*/c',
  ]),
];

/** Characters and fragments the grammar reacts to, including whitespace JavaScript and Java disagree on. */
const ALPHABET = [
  ...'/*=>;|&()!~$#\\x.0123456789abcdefz_:%-',
  ' ',
  '\n',
  '\t',
  '\u001f',
  '\u00a0', // NBSP: not whitespace
  '\u2007', // not whitespace
  '\u3000', // whitespace
  '\ufeff', // not whitespace
  '\u0663', // Arabic-Indic digit three
  'é',
  '\ud83d\ude00',
  '\ud800',
];
const FRAGMENTS = ['/a', '/*', '=>', ' | ', ' & ', '0.5*', ';', '(', ')', '\\x2f', '\\x4', ' #c\n', '/', '~', '!', '$'];

function pick<T>(next: () => number, xs: readonly T[]): T {
  return xs[next() % xs.length]!;
}

function mutate(next: () => number, base: string): string {
  let s = base;
  const edits = 1 + (next() % 3);
  for (let k = 0; k < edits; k++) {
    const at = next() % (s.length + 1);
    switch (next() % 7) {
      case 0: // insert a character
        s = s.slice(0, at) + pick(next, ALPHABET) + s.slice(at);
        break;
      case 1: // delete one to three characters
        s = s.slice(0, at) + s.slice(at + 1 + (next() % 3));
        break;
      case 2: // replace a character
        s = s.slice(0, at) + pick(next, ALPHABET) + s.slice(at + 1);
        break;
      case 3: // splice in a grammar fragment
        s = s.slice(0, at) + pick(next, FRAGMENTS) + s.slice(at);
        break;
      case 4: // replace a character with any UTF-16 unit
        s = s.slice(0, at) + String.fromCharCode(next() % 0x10000) + s.slice(at + 1);
        break;
      case 5: {
        // duplicate a slice
        const end = at + (next() % 12);
        s = s.slice(0, end) + s.slice(at, end) + s.slice(end);
        break;
      }
      default: // join with another corpus entry
        s = s + pick(next, [';', ' | ', ' & ', '', '\n']) + pick(next, CORPUS);
    }
  }
  return s;
}

function randomString(next: () => number): string {
  const len = next() % 48;
  let s = '';
  for (let i = 0; i < len; i++) {
    const r = next() % 10;
    s += r < 6 ? pick(next, ALPHABET) : r < 9 ? pick(next, FRAGMENTS) : String.fromCharCode(next() % 0x10000);
  }
  return s;
}

/**
 * Whether the tree holds a weight Finagle's printing cannot carry back: one that prints as
 * `1.00` without being 1.0 (printed `1.00*`, read back as 1.0, then printed without a weight),
 * or a non-finite one (a weight of 309+ digits prints as `Infinity*`). Finagle behaves the same
 * (spec/dtab.md §4: round trip is promised only for weights of at most two decimals); inputs
 * with such weights are excluded from the printed-form fixpoint check and counted instead.
 */
function hasNonRoundTrippingWeight(t: NameTree<Path>): boolean {
  switch (t.kind) {
    case 'alt':
      return t.trees.some(hasNonRoundTrippingWeight);
    case 'union':
      return t.trees.some(
        (w) => (w.weight !== 1 && formatWeight(w.weight) === '1.00') || !Number.isFinite(w.weight) || hasNonRoundTrippingWeight(w.tree),
      );
    default:
      return false;
  }
}

interface Stats {
  inputs: number;
  parsed: Record<string, number>;
  nonRoundTrippingWeights: number;
}

/** Calls `read`, requiring a value or a well-formed DtabParseError; returns the value or undefined. */
function attempt<T>(name: string, read: (s: string) => T, input: string, context: string): T | undefined {
  try {
    return read(input);
  } catch (e) {
    if (!(e instanceof DtabParseError)) {
      assert.fail(`${name}(${JSON.stringify(input)}) threw ${String(e)} instead of a DtabParseError (${context})`);
    }
    if (!(e.offset >= 0 && e.offset <= input.length)) {
      assert.fail(`${name}(${JSON.stringify(input)}) reported offset ${e.offset} outside [0, ${input.length}] (${context})`);
    }
    if (e.input !== input) assert.fail(`${name}(${JSON.stringify(input)}) reported a different input (${context})`);
    return undefined;
  }
}

/** Reads `shown` again with `read` and requires the same printed form. */
function reprints<T>(name: string, read: (s: string) => T, show: (v: T) => string, shown: string, input: string, context: string): void {
  const again = attempt(name, read, shown, `re-reading the printed form of ${JSON.stringify(input)}, ${context}`);
  if (again === undefined) {
    assert.fail(`${name} rejects its own printed form ${JSON.stringify(shown)} of input ${JSON.stringify(input)} (${context})`);
  }
  const reshown = show(again);
  if (reshown !== shown) {
    assert.fail(
      `${name}: printed form ${JSON.stringify(shown)} of input ${JSON.stringify(input)} reads back as ${JSON.stringify(reshown)} (${context})`,
    );
  }
}

function check(input: string, context: string, stats: Stats): void {
  stats.inputs++;
  const path = attempt('readPath', readPath, input, context);
  if (path !== undefined) {
    stats.parsed.readPath!++;
    const again = attempt('readPath', readPath, path.show, context);
    assert.ok(again?.equals(path), `readPath: ${JSON.stringify(path.show)} from ${JSON.stringify(input)} does not read back equal (${context})`);
  }
  const prefix = attempt('readPrefix', readPrefix, input, context);
  if (prefix !== undefined) {
    stats.parsed.readPrefix!++;
    reprints('readPrefix', readPrefix, (p) => p.show, prefix.show, input, context);
  }
  const tree = attempt('readNameTree', readNameTree, input, context);
  if (tree !== undefined) {
    stats.parsed.readNameTree!++;
    if (hasNonRoundTrippingWeight(tree)) stats.nonRoundTrippingWeights++;
    else reprints('readNameTree', readNameTree, showPathTree, showPathTree(tree), input, context);
  }
  const dentry = attempt('readDentry', readDentry, input, context);
  if (dentry !== undefined) {
    stats.parsed.readDentry!++;
    if (hasNonRoundTrippingWeight(dentry.dst)) stats.nonRoundTrippingWeights++;
    else reprints('readDentry', readDentry, (d) => d.show, dentry.show, input, context);
  }
  const dtab = attempt('readDtab', readDtab, input, context);
  if (dtab !== undefined) {
    stats.parsed.readDtab!++;
    if (dtab.dentries.some((d) => hasNonRoundTrippingWeight(d.dst))) stats.nonRoundTrippingWeights++;
    else {
      reprints('readDtab', readDtab, (d) => d.show, dtab.show, input, context);
      assert.equal(readDtab(dtab.show).size, dtab.size, `readDtab: ${JSON.stringify(input)} changes its entry count on a round trip (${context})`);
    }
  }
}

function newStats(): Stats {
  return { inputs: 0, parsed: { readPath: 0, readPrefix: 0, readNameTree: 0, readDentry: 0, readDtab: 0 }, nonRoundTrippingWeights: 0 };
}

describe(`fuzzing the read functions (seed ${SEED}; set FUZZ_SEED to change it)`, () => {
  test('the seed corpus parses as the conformance cases say, so mutations start from valid text', () => {
    assert.ok(CORPUS.length >= 100, `only ${CORPUS.length} corpus entries were found`);
    const stats = newStats();
    for (const input of CORPUS) check(input, 'seed corpus', stats);
    assert.ok(stats.parsed.readDtab! >= 30, `only ${stats.parsed.readDtab} corpus entries parse as dtabs`);
    assert.ok(stats.parsed.readNameTree! >= 30, `only ${stats.parsed.readNameTree} corpus entries parse as name trees`);
  });

  test(`${MUTATED_INPUTS} mutated conformance inputs either parse and reprint stably or raise DtabParseError`, (t) => {
    const next = xorshift32(SEED);
    const stats = newStats();
    for (let i = 0; i < MUTATED_INPUTS; i++) {
      check(mutate(next, pick(next, CORPUS)), `seed ${SEED}, mutated input #${i}`, stats);
    }
    // The round-trip checks only mean something if a fair share of the mutants still parse.
    for (const [name, n] of Object.entries(stats.parsed)) {
      assert.ok(n >= MUTATED_INPUTS / 200, `only ${n} of ${MUTATED_INPUTS} mutated inputs parsed with ${name}`);
    }
    t.diagnostic(`parsed: ${JSON.stringify(stats.parsed)}; excluded for weights: ${stats.nonRoundTrippingWeights}`);
    assert.ok(
      stats.nonRoundTrippingWeights < MUTATED_INPUTS / 100,
      `${stats.nonRoundTrippingWeights} inputs were excluded from the fixpoint check for their weights`,
    );
  });

  test(`${RANDOM_INPUTS} random strings either parse and reprint stably or raise DtabParseError`, (t) => {
    const next = xorshift32(SEED ^ 0x5a5a5a5a);
    const stats = newStats();
    for (let i = 0; i < RANDOM_INPUTS; i++) check(randomString(next), `seed ${SEED}, random input #${i}`, stats);
    t.diagnostic(`parsed: ${JSON.stringify(stats.parsed)}; excluded for weights: ${stats.nonRoundTrippingWeights}`);
    assert.equal(stats.inputs, RANDOM_INPUTS);
  });
});

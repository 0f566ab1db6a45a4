// The hand-written tokenizer (grammar/lexer.ts) that production parses with must produce exactly
// the token stream of the declarative Chevrotain lexers (grammar/declarative-lexer.ts), which are
// the specification of the token rules: same token types, offsets, images and payloads, on the
// conformance inputs and on seeded random inputs. Set LEXER_FUZZ_SEED to replay another seed.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import type { IToken, Lexer } from 'chevrotain';
import { dtabLexer, treeLexer } from '../../grammar/declarative-lexer.ts';
import { tokenize } from '../../grammar/lexer.ts';
import { ALL_TOKENS } from '../../grammar/tokens.ts';
import { xorshift32, vectorTexts } from '../support/inputs.ts';

const SEED = Number(process.env.LEXER_FUZZ_SEED ?? 0x1e7e5eed) >>> 0;
const FUZZ_INPUTS = 40_000;

/** Every text field of the conformance cases: inputs, dtabs, paths. */
const VECTOR_INPUTS: string[] = vectorTexts();

/** Characters that matter to the token rules, including whitespace that JavaScript and Java disagree on. */
const GRAMMAR_ALPHABET = [
  ...'/*=>;|&()!~$#\\x.0123456789abcdefABCDEFXz_:%-',
  ' ',
  '\n',
  '\t',
  '\r',
  '\u000b',
  '\u001c',
  '\u001f',
  '\u00a0', // NBSP: not whitespace
  '\u1680',
  '\u2000',
  '\u2007', // figure space: not whitespace
  '\u200a',
  '\u2028',
  '\u202f', // not whitespace
  '\u205f',
  '\u3000',
  '\ufeff', // not whitespace
  '\u0663', // Arabic-Indic digit three
  '\u0966', // Devanagari digit zero
  '\uff11', // fullwidth digit one
  'é',
  '\ud83d\ude00', // an emoji: a surrogate pair
  '\ud800', // a lone high surrogate
  '\udc00', // a lone low surrogate
];

/** Fragments that form whole tokens, so fuzzed inputs reach deep into the token rules. */
const FRAGMENTS = [
  '/svc',
  '/a/b',
  '/*',
  '/\\x2f',
  '/\\x2a',
  '/\\xzz',
  '/\\X41',
  '=>',
  ' => ',
  '= >',
  '0.5*',
  '1.2.3',
  '.',
  ' | ',
  ' & ',
  ';',
  ' # comment\n',
  '#',
  '(',
  ')',
  '/#/io.l5d.fs',
  '/$/inet/127.1/80',
  '/',
];

function randomString(next: () => number): string {
  const len = next() % 40;
  let s = '';
  for (let i = 0; i < len; i++) {
    const r = next() % 100;
    if (r < 60) s += GRAMMAR_ALPHABET[next() % GRAMMAR_ALPHABET.length];
    else if (r < 85) s += FRAGMENTS[next() % FRAGMENTS.length];
    else if (r < 95) s += String.fromCharCode(next() % 0x10000); // any UTF-16 unit, surrogates included
    else s += String.fromCharCode(next() % 128);
  }
  return s;
}

function mutate(next: () => number, base: string): string {
  let s = base;
  const edits = 1 + (next() % 4);
  for (let k = 0; k < edits; k++) {
    const at = s.length === 0 ? 0 : next() % (s.length + 1);
    const ins = next() % 2 === 0 ? GRAMMAR_ALPHABET[next() % GRAMMAR_ALPHABET.length]! : FRAGMENTS[next() % FRAGMENTS.length]!;
    switch (next() % 3) {
      case 0:
        s = s.slice(0, at) + ins + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + 1 + (next() % 3));
        break;
      default:
        s = s.slice(0, at) + ins + s.slice(at + 1);
    }
  }
  return s;
}

/** The seeded fuzz corpus: mutated vector inputs and purely random strings, alternately. */
function fuzzInputs(): string[] {
  const next = xorshift32(SEED);
  const out: string[] = [];
  for (let i = 0; i < FUZZ_INPUTS; i++) {
    out.push(i % 2 === 0 ? mutate(next, VECTOR_INPUTS[next() % VECTOR_INPUTS.length]!) : randomString(next));
  }
  return out;
}

/**
 * The offset of a declarative token's last character. Under `positionTracking: 'onlyOffset'`
 * Chevrotain's own tokens carry no `endOffset`, so it is derived from the start and the image.
 */
function declarativeEnd(t: IToken): number {
  return t.endOffset ?? t.startOffset + t.image.length - 1;
}

/** The first difference between the two token streams, or undefined when they agree. */
function firstDifference(handWritten: IToken[], declarative: IToken[]): string | undefined {
  const n = Math.max(handWritten.length, declarative.length);
  for (let i = 0; i < n; i++) {
    const a = handWritten[i];
    const b = declarative[i];
    if (a === undefined || b === undefined) {
      return `token streams differ in length (${handWritten.length} hand-written vs ${declarative.length} declarative); first extra token at index ${i}`;
    }
    const fields: [string, unknown, unknown][] = [
      ['tokenType', a.tokenType.name, b.tokenType.name],
      ['startOffset', a.startOffset, b.startOffset],
      ['endOffset', a.endOffset, declarativeEnd(b)],
      ['image', a.image, b.image],
      ['payload', a.payload, b.payload],
    ];
    for (const [field, x, y] of fields) {
      if (!isDeepStrictEqual(x, y)) {
        return `token ${i} differs in ${field}: hand-written ${JSON.stringify(x)} vs declarative ${JSON.stringify(y)}`;
      }
    }
  }
  return undefined;
}

/** What the compared token streams contained: token types, and the errors carried in payloads. */
interface Coverage {
  types: Set<string>;
  errors: Set<string>;
}

function checkAgreement(
  inputs: readonly string[],
  prefixes: boolean,
  lexer: Lexer,
  context: string,
  coverage?: Coverage,
): void {
  const lexerName = prefixes ? 'dtabLexer' : 'treeLexer';
  for (const text of inputs) {
    const result = lexer.tokenize(text);
    assert.equal(
      result.errors.length,
      0,
      `${lexerName} reported lexing errors for ${JSON.stringify(text)} (${context}): ${JSON.stringify(result.errors.map((e) => e.message))}`,
    );
    let handWritten: IToken[];
    try {
      handWritten = tokenize(text, prefixes);
    } catch (e) {
      assert.fail(`tokenize(${JSON.stringify(text)}, ${prefixes}) threw ${String(e)} (${context})`);
    }
    const diff = firstDifference(handWritten, result.tokens);
    if (diff !== undefined) {
      assert.fail(`tokenize(text, ${prefixes}) disagrees with ${lexerName} for ${JSON.stringify(text)} (${context}): ${diff}`);
    }
    if (coverage !== undefined) {
      for (const t of handWritten) {
        coverage.types.add(t.tokenType.name);
        const error = (t.payload as { error?: { expected: string } } | undefined)?.error;
        if (error !== undefined) coverage.errors.add(error.expected);
      }
    }
  }
}

describe('the hand-written tokenizer matches the declarative Chevrotain lexers', () => {
  test('the corpus covers every conformance vector input', () => {
    assert.ok(VECTOR_INPUTS.length >= 100, `only ${VECTOR_INPUTS.length} vector inputs were found`);
  });

  test('dtab mode gives the same tokens as dtabLexer on every conformance input', () => {
    checkAgreement(VECTOR_INPUTS, true, dtabLexer, 'conformance vector');
  });

  test('tree mode gives the same tokens as treeLexer on every conformance input', () => {
    checkAgreement(VECTOR_INPUTS, false, treeLexer, 'conformance vector');
  });

  test('both modes agree on hand-picked inputs at the edges of the token rules', () => {
    const edges = [
      '',
      ' ',
      '#',
      '#\n',
      '/',
      '//',
      '/a/',
      '/a//b',
      '/*',
      '/**',
      '/a*',
      '/*a',
      '/a#b #c\n/d',
      '/\\',
      '/\\x',
      '/\\x4',
      '/\\xg1',
      '/\\X41',
      '/a\\x41\\x2f',
      '=',
      '= >',
      '=>=>',
      '.',
      '..',
      '1..2',
      '.5.',
      '1\u0663*/a',
      '\u0663*/a',
      '/a=>/b;/c=>/d;',
      ';/a',
      ';;/a',
      '/a;#x\n/b',
      '/a; /b',
      '/a\u00a0/b',
      '/a\u3000/b',
      '\ufeff/a',
      '/a\ud800',
      '\udc00/a',
      '/$ | $',
      '$/a',
      '/a\u2028=>\u2029/b',
    ];
    checkAgreement(edges, true, dtabLexer, 'edge case');
    checkAgreement(edges, false, treeLexer, 'edge case');
  });

  test(`both modes agree on ${FUZZ_INPUTS} seeded fuzzed inputs (seed ${SEED})`, () => {
    const inputs = fuzzInputs();
    const coverage: Coverage = { types: new Set(), errors: new Set() };
    checkAgreement(inputs, true, dtabLexer, `fuzz seed ${SEED}`, coverage);
    checkAgreement(inputs, false, treeLexer, `fuzz seed ${SEED}`, coverage);
    // The comparison only means something if the fuzzed inputs reach every token rule.
    const allTypes = ALL_TOKENS.map((t) => t.name)
      .filter((name) => name !== 'WhiteSpace' && name !== 'Comment');
    for (const name of allTypes) assert.ok(coverage.types.has(name), `no fuzzed input produced a ${name} token`);
    for (const expected of ["'x'", 'hex char', 'label char', 'number char', 'weight', "'>'"]) {
      assert.ok(coverage.errors.has(expected), `no fuzzed input produced a token carrying the error ${expected}`);
    }
  });
});

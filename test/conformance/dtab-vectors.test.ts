// Every case of the shared dtab conformance vectors (spec/dtab.md §12), one test each.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { type Case, runCase } from './runner.ts';

const cases = JSON.parse(readFileSync(new URL('dtab-vectors.json', import.meta.url), 'utf8')) as Case[];

describe('dtab conformance vectors', () => {
  test('the vectors file holds every kind of case', () => {
    const kinds = new Set(cases.map((c) => c.kind));
    for (const k of ['parse-path', 'parse-dtab', 'parse-tree', 'lookup', 'simplify', 'eval', 'bind', 'delegate']) {
      assert.ok(kinds.has(k), `no ${k} case`);
    }
    assert.ok(cases.length >= 165, `only ${cases.length} cases`);
  });
  for (const c of cases) {
    test(`${c.id} (${c.kind})${c.note ? ': ' + String(c.note) : ''}`, () => {
      const o = runCase(c);
      assert.ok(o.passed, `expected ${JSON.stringify(o.expected)}\n     got ${JSON.stringify(o.actual)}`);
    });
  }
});

describe('the conformance runner', () => {
  test('reports a case whose expectation is wrong as failed', () => {
    const o = runCase({ id: 'x', kind: 'parse-path', input: '/a/b', expect: '/a/c', elems: ['a', 'c'] });
    assert.equal(o.passed, false);
  });
  test('reports an unknown case kind as failed rather than passing it', () => {
    assert.equal(runCase({ id: 'x', kind: 'no-such-kind' }).passed, false);
  });
  test('reports an error case that parses as failed', () => {
    assert.equal(runCase({ id: 'x', kind: 'parse-path', input: '/a', error: true, message: 'whatever' }).passed, false);
  });
});

// Printing: Java's %.2f for weights and Finagle's parenthesisation.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alt, Empty, Fail, formatWeight, leaf, Neg, Path, readNameTree, showPathTree, union, weighted } from '../../src/dtab/index.ts';

describe('formatWeight matches Java String.format("%.2f")', () => {
  const cases: [number, string][] = [
    [0.5, '0.50'],
    [2, '2.00'],
    [0, '0.00'],
    [0.125, '0.13'],
    [1.005, '1.01'],
    [0.285, '0.29'],
    [0.333, '0.33'],
    [0.995, '1.00'],
    [9.995, '10.00'],
    [99.999, '100.00'],
    [1e21, '1000000000000000000000.00'],
    [1.5e22, '15000000000000000000000.00'],
    [1e-7, '0.00'],
    [0.005, '0.01'],
    [0.0049, '0.00'],
    [123456.785, '123456.79'],
    [-0.5, '-0.50'],
    [-0.001, '-0.00'],
    [Infinity, 'Infinity'],
    [NaN, 'NaN'],
  ];
  for (const [w, s] of cases) {
    test(`${w} prints as ${s}`, () => assert.equal(formatWeight(w), s));
  }
  test('never prints an exponent or a comma', () => {
    for (let e = -30; e <= 30; e++) {
      const s = formatWeight(1.2345 * 10 ** e);
      assert.match(s, /^\d+\.\d\d$/, `1.2345e${e} printed as ${s}`);
    }
  });
});

describe('NameTree show', () => {
  const a = leaf(Path.of('a'));
  const b = leaf(Path.of('b'));
  const c = leaf(Path.of('c'));
  test('a nested alt goes in parentheses; a union inside an alt does not', () => {
    assert.equal(showPathTree(alt(a, alt(b, c))), '/a | (/b | /c)');
    assert.equal(showPathTree(alt(union(weighted(1, a), weighted(2, b)), c)), '/a & 2.00*/b | /c');
  });
  test('compound union branches go in parentheses, weight 1.0 is not printed', () => {
    assert.equal(showPathTree(union(weighted(1, alt(a, b)), weighted(1, c))), '(/a | /b) & /c');
    assert.equal(
      showPathTree(union(weighted(0.5, union(weighted(0.5, a), weighted(0.5, b))), weighted(1, c))),
      '0.50*(0.50*/a & 0.50*/b) & /c',
    );
    assert.equal(showPathTree(union(weighted(2, Fail), weighted(3, Neg), weighted(1, Empty))), '2.00*! & 3.00*~ & $');
  });
  test('one-child nodes print as their child and printing never simplifies', () => {
    assert.equal(showPathTree(alt(union(weighted(0.3, a)))), '/a');
    assert.equal(showPathTree(readNameTree('/a | ! | /b')), '/a | ! | /b');
  });
  test('empty alt and union print as Finagle prints them', () => {
    assert.equal(showPathTree(alt()), '');
    assert.equal(showPathTree(union()), '');
    assert.equal(showPathTree(alt(a, alt())), '/a | ()');
  });
});

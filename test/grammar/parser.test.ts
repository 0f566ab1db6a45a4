// The grammar accepts and rejects what Finagle does, with Finagle's messages and offsets.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DtabParseError,
  readDentry,
  readDtab,
  readNameTree,
  readPath,
  readPrefix,
  showPathTree,
} from '../../src/dtab/index.ts';

function rejects(f: (s: string) => unknown, input: string, message: string, offset?: number): void {
  assert.throws(
    () => f(input),
    (e: unknown) => {
      assert.ok(e instanceof DtabParseError, `not a DtabParseError: ${String(e)}`);
      assert.equal(e.message, message);
      if (offset !== undefined) assert.equal(e.offset, offset, 'offset');
      assert.equal(e.input, input);
      return true;
    },
  );
}

describe('error messages in Finagle format (spec/dtab.md §10)', () => {
  test('a trailing slash wants a label', () => {
    rejects(readPath, '/foo/bar/', "label char expected but end of input found at '/foo/bar/[]'", 9);
  });
  test('a character outside the label set ends the path', () => {
    rejects(readPath, '/foo^bar', "end of input expected but '^' found at '/foo[^]bar'", 4);
  });
  test('an arrow with nothing after it wants a simple tree', () => {
    rejects(readDentry, '/a=>', "simple expected but end of input found at '/a=>[]'", 4);
  });
  test('an empty entry between semicolons wants a prefix', () => {
    rejects(readDtab, '/a=>/b;;/c=>/d', "'/' expected but ';' found at '/a=>/b;[;]/c=>/d'", 7);
  });
  test('a leading semicolon and a lone one are rejected at the semicolon', () => {
    rejects(readDtab, ';/a=>/b', "'/' expected but ';' found at '[;]/a=>/b'", 0);
    rejects(readDtab, ';', "'/' expected but ';' found at '[;]'", 0);
    rejects(readDtab, '  ;  ', "'/' expected but ';' found at '  [;]  '", 2);
  });
  test('one trailing semicolon is allowed, with whitespace and comments after it', () => {
    assert.equal(readDtab('/a=>/b;').show, '/a=>/b');
    assert.equal(readDtab('/a=>/b ; # done\n  ').show, '/a=>/b');
  });
  test('a newline does not separate dentries', () => {
    rejects(readDtab, '/a=>/b\n/c=>/d', "end of input expected but '/' found at '/a=>/b\n[/]c=>/d'", 7);
  });
  test('= and > must be adjacent', () => {
    rejects(readDentry, '/a = > /b', "'>' expected but ' ' found at '/a =[ ]> /b'", 4);
    rejects(readDtab, '/a=', "'>' expected but end of input found at '/a=[]'", 3);
  });
  test('escapes need a lower-case x and two hex digits', () => {
    rejects(readPath, '/a\\X41', "'x' expected but 'X' found at '/a\\[X]41'", 3);
    rejects(readPath, '/\\x?', "hex char expected but '?' found at '/\\x[?]'", 3);
    rejects(readPath, '/\\x0', "hex char expected but end of input found at '/\\x0[]'", 4);
    rejects(readPath, '/\\', "'x' expected but end of input found at '/\\[]'", 2);
  });
  test('a second dot in a weight is rejected at that dot', () => {
    rejects(readNameTree, '/foo & 0.1.2 * /bar', "number char expected but '.' found at '/foo & 0.1[.]2 * /bar'", 10);
  });
  test('a lone dot is a weight error marked one character on, as Finagle marks it', () => {
    rejects(readNameTree, '/foo & . * /bar', "weight expected but '.' found at '/foo & .[ ]* /bar'", 7);
    rejects(readNameTree, '/foo & .', "weight expected but '.' found at '/foo & .[]'", 7);
  });
  test('signs, exponents and a weight before a weight are rejected', () => {
    rejects(readNameTree, '-1*/a & /b', "simple expected but '-' found at '[-]1*/a & /b'", 0);
    rejects(readNameTree, '1e3*/a', "'*' expected but 'e' found at '1[e]3*/a'", 1);
    rejects(readNameTree, '2*3*/a', "simple expected but '3' found at '2*[3]*/a'", 2);
  });
  test('digits after a slash are a label, so a weight cannot follow one', () => {
    rejects(readNameTree, '/0.5*/a', "end of input expected but '*' found at '/0.5[*]/a'", 4);
  });
  test('wildcards belong to prefixes only', () => {
    assert.equal(readPrefix('/foo/*/bar').show, '/foo/*/bar');
    rejects(readPath, '/*', "end of input expected but '*' found at '/[*]'", 1);
    rejects(readPath, '/a/*', "label char expected but '*' found at '/a/[*]'", 3);
    rejects(readDentry, '/foo/*bar/baz => !', "'=' expected but 'b' found at '/foo/*[b]ar/baz => !'", 6);
    rejects(readDentry, '/a/** => !', "'=' expected but '*' found at '/a/*[*] => !'", 4);
  });
  test('unclosed and empty parentheses are rejected', () => {
    rejects(readDtab, '/svc=>(/b', "')' expected but end of input found at '/svc=>(/b[]'", 9);
    rejects(readNameTree, '()', "simple expected but ')' found at '([)]'", 1);
    rejects(readNameTree, '/a || /b', "simple expected but '|' found at '/a |[|] /b'", 4);
  });
  test('NBSP is not whitespace; U+001F and U+3000 are', () => {
    rejects(readDtab, '/a=>\u00a0/b', "simple expected but '\u00a0' found at '/a=>[\u00a0]/b'", 4);
    assert.equal(readDtab('\u001f/a=>\u3000/b\u2028').show, '/a=>/b');
  });
  test('non-ASCII digits in a weight are rejected', () => {
    assert.throws(() => readNameTree('1\u0663*/a & /b'), DtabParseError);
    assert.throws(() => readNameTree('\u0663*/a & /b'), DtabParseError);
  });
});

describe('accepted syntax', () => {
  test('# is a label character inside a path and a comment elsewhere', () => {
    assert.deepEqual(readPath('/a#b').elems, ['a#b']);
    assert.equal(readDtab('/#/io.l5d.fs=>/a #comment\n').show, '/#/io.l5d.fs=>/a');
    assert.equal(readDtab('/a=>#c\n/b').show, '/a=>/b');
    assert.equal(readNameTree('# only a comment\n/x').kind, 'leaf');
  });
  test('// is not a comment', () => {
    assert.throws(() => readDtab('/a=>/b // comment'), DtabParseError);
  });
  test('an escaped / or * stays inside its element, and escapes of label chars print raw', () => {
    assert.deepEqual(readPath('/a\\x2fb').elems, ['\\x61\\x2f\\x62']);
    assert.deepEqual(readPath('/\\x2a').elems, ['\\x2a']);
    assert.deepEqual(readPath('/\\x61\\x62').elems, ['ab']);
    assert.equal(readPath('/foo\\x20bar').show, '/\\x66\\x6f\\x6f\\x20\\x62\\x61\\x72');
  });
  test('$ after a slash is a label, alone it is Empty', () => {
    const t = readNameTree('/$ | $');
    assert.equal(showPathTree(t), '/$ | $');
    assert.equal(t.kind === 'alt' && t.trees[1]!.kind, 'empty');
  });
  test('numbers follow Java: 1., .5, 007 and a 22-digit integer', () => {
    assert.equal(showPathTree(readNameTree('1.*/a & .5*/b & 007*/c & 1234567890123456789012*/d')),
      // Java formats the double's shortest digits, then zeros: not the 22 digits written.
      '/a & 0.50*/b & 7.00*/c & 1234567890123456800000.00*/d');
  });
  test('a weight on a lone branch is dropped', () => {
    assert.deepEqual(readNameTree('0.5*/a'), { kind: 'leaf', value: readPath('/a') });
  });
  test('the empty path and the empty dtab', () => {
    assert.equal(readPath('/').show, '/');
    assert.equal(readPath('  /  ').size, 0);
    assert.equal(readDtab('').size, 0);
    assert.equal(readDtab(' \n# nothing\n').size, 0);
  });
  test('nested alternations are kept, not flattened', () => {
    const t = readNameTree('/a | (/b | /c)');
    assert.equal(t.kind === 'alt' && t.trees[1]!.kind, 'alt');
    assert.equal(showPathTree(t), '/a | (/b | /c)');
  });
  test('non-string input is a TypeError, not a parse', () => {
    assert.throws(() => readDtab(undefined as unknown as string), TypeError);
  });
});

// Path patterns with captures (linkerd's PathMatcher): linkerd's own test cases, partial and
// repeated captures, how literals compare, substitution, hostile patterns and paths, and a
// differential check against the regex linkerd would build.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DtabParseError, Path, readPath } from '../../src/dtab/index.ts';
import { PathMatcher, PathMatcherError } from '../../src/namer/path-matcher.ts';

function extract(expr: string, path: string | Path): Record<string, string> | undefined {
  const vars = PathMatcher.compile(expr).extract(typeof path === 'string' ? readPath(path) : path);
  return vars === undefined ? undefined : Object.fromEntries(vars);
}

function rejects(expr: string, detail: RegExp): void {
  assert.throws(
    () => PathMatcher.compile(expr),
    (e: unknown) => e instanceof PathMatcherError && e.expr === expr && detail.test(e.message),
  );
}

describe('PathMatcher: linkerd cases', () => {
  test('exact and prefix matches; a mismatch or a shorter path does not match', () => {
    assert.deepEqual(extract('/foo/bar', '/foo/bar'), {});
    assert.deepEqual(extract('/foo/bar', '/foo/bar/bas'), {});
    assert.equal(extract('/foo/bar', '/foo/goo'), undefined);
    assert.equal(extract('/foo/bar', '/foo'), undefined);
  });
  test('wildcards match any one element', () => {
    assert.deepEqual(extract('/foo/*/*', '/foo/hi/there'), {});
    assert.equal(extract('/foo/*/bar', '/foo/hi/there'), undefined);
  });
  test('whole-segment captures, names with underscores, captures and wildcards', () => {
    assert.deepEqual(extract('/foo/{A}', '/foo/bar/bas'), { A: 'bar' });
    assert.deepEqual(extract('/foo/{A_B_C}', '/foo/bar/bas'), { A_B_C: 'bar' });
    assert.deepEqual(extract('/foo/{A}/*/{B}', '/foo/boo/bar/bas'), { A: 'boo', B: 'bas' });
    assert.equal(extract('/foo/{A}/bar', '/foo/bar/bad'), undefined);
  });
  test('captures inside a segment', () => {
    assert.deepEqual(extract('/foo/bar/{A}:http', '/foo/bar/bas:http'), { A: 'bas' });
    assert.deepEqual(extract('/foo/bar/{A}.com/{B}', '/foo/bar/foo.com/80'), { A: 'foo', B: '80' });
    assert.deepEqual(extract('/foo/bar/{A}-{B}/{C}', '/foo/bar/foo-com/80'), { A: 'foo', B: 'com', C: '80' });
    assert.deepEqual(extract('/foo/bar/{A}.{B}/{C}', '/foo/bar/foo.com/80'), { A: 'foo', B: 'com', C: '80' });
    assert.deepEqual(extract('/foo/bar/{A}.{B}.{C}/{D}', '/foo/bar/www.foo.com/80'), {
      A: 'www',
      B: 'foo',
      C: 'com',
      D: '80',
    });
    assert.deepEqual(extract('/foo/{A}/*/{B}:http', '/foo/boo/bar/bas:http'), { A: 'boo', B: 'bas' });
    // Captures are greedy: the first takes as much as it can.
    assert.deepEqual(extract('/foo/bar/{A}-{B}', '/foo/bar/foo-bar-baz'), { A: 'foo-bar', B: 'baz' });
    assert.equal(extract('/foo/{A}:http', '/foo/bar/bas:http'), undefined);
  });
  test('substitution', () => {
    const m = PathMatcher.compile('/foo/{A}/*/{B}');
    assert.equal(m.substitutePath(readPath('/foo/boo/bar/bas'), '/{A}/and/{B}')?.show, '/boo/and/bas');
    assert.equal(m.substitutePath(readPath('/goo/boo/bar/bas'), '/{A}/and/{B}'), undefined);
  });
});

describe('PathMatcher: captures', () => {
  test('a Kubernetes-style partial capture', () => {
    const expr = '/svc/{service}.svc.cluster.local';
    assert.deepEqual(extract(expr, '/svc/web.svc.cluster.local'), { service: 'web' });
    assert.deepEqual(extract(expr, '/svc/web.prod.svc.cluster.local/x'), { service: 'web.prod' });
    assert.equal(extract(expr, '/svc/web.svc.cluster'), undefined);
    assert.equal(extract(expr, '/svc/websvc.cluster.local'), undefined);
    // linkerd's regex is searched for, not anchored: text around the match is allowed, and a
    // capture may be empty.
    assert.deepEqual(extract(expr, '/svc/web.svc.cluster.local.example.com'), { service: 'web' });
    assert.deepEqual(extract(expr, '/svc/.svc.cluster.local'), { service: '' });
    assert.deepEqual(extract('/svc/www.{domain}', '/svc/cdn.www.example'), { domain: 'example' });
  });
  test('several captures in one segment, adjacent captures', () => {
    assert.deepEqual(extract('/{a}.{b}:{c}', '/web.example:8080'), { a: 'web', b: 'example', c: '8080' });
    assert.deepEqual(extract('/{a}.{b}', '/a.b.c.d'), { a: 'a.b.c', b: 'd' });
    assert.deepEqual(extract('/{a}{b}', '/abc'), { a: 'abc', b: '' });
    assert.deepEqual(extract('/x{a}y{b}z', '/xxyyzz'), { a: 'xy', b: 'z' });
    assert.equal(extract('/{a}.{b}', '/nodots'), undefined);
  });
  test('a capture used twice keeps its later value; reused in the pattern, it is substituted each time', () => {
    assert.deepEqual(extract('/{a}/{a}', '/one/two'), { a: 'two' });
    assert.deepEqual(extract('/{a}-{a}', '/x-y-z'), { a: 'z' });
    const m = PathMatcher.compile('/{svc}');
    assert.equal(m.substitutePath(readPath('/web'), '/{svc}/{svc}/{svc}-canary')?.show, '/web/web/web-canary');
  });
  test('capture names use linkerd class: letters, digits, "." and the range ":" to "_"', () => {
    assert.deepEqual(extract('/{a.b}', '/x'), { 'a.b': 'x' });
    assert.deepEqual(extract('/{a:b}', '/x'), { 'a:b': 'x' });
    assert.deepEqual(extract('/{a<=>?@b}', '/x'), { 'a<=>?@b': 'x' });
    assert.deepEqual(extract('/{A[0]}', '/x'), { 'A[0]': 'x' });
    assert.deepEqual(extract('/{a\\b^}', '/x'), { 'a\\b^': 'x' });
    rejects('/{a-b}', /brace outside a capture/);
    rejects('/{a b}', /brace outside a capture/);
    rejects('/{ü}', /brace outside a capture/);
    assert.deepEqual(PathMatcher.compile('/{b}/{a}.{b}/{c}').names, ['b', 'a', 'c']);
  });
});

describe('PathMatcher: literals', () => {
  test('dots are literal, in plain segments and next to captures', () => {
    assert.equal(extract('/a.b', '/aXb'), undefined);
    assert.deepEqual(extract('/a.b', '/a.b'), {});
    assert.equal(extract('/{A}.com', '/fooXcom'), undefined);
    assert.equal(extract('/{A}...', '/foo'), undefined);
    assert.deepEqual(extract('/{A}...', '/foo...'), { A: 'foo' });
  });
  test('regex characters a path can hold ($, \\) are plain characters', () => {
    assert.deepEqual(extract('/$/{kind}', '/$/inet'), { kind: 'inet' });
    assert.deepEqual(extract('/{A}$x', '/foo$x'), { A: 'foo' });
    assert.equal(extract('/{A}$', '/foo'), undefined);
    // Elements compare as shown: `a b` shows as \x61\x20\x62.
    assert.deepEqual(extract('/{A}\\x20\\x62', Path.of('a b')), { A: '\\x61' });
    assert.deepEqual(extract('/\\x61\\x20\\x62', Path.of('a b')), {});
    const m = PathMatcher.compile('/{A}');
    assert.equal(m.substitutePath(Path.of('a b'), '/s/{A}')?.equals(Path.of('s', 'a b')), true);
  });
  test('other regex characters could never match a shown element, and are refused', () => {
    for (const expr of ['/{A}*', '/{A}+', '/({A})', '/[a-z]{A}', '/{A}|x', '/^{A}', '/{A}?', '/a*', '/a b', '/café']) {
      rejects(expr, /can never match/);
    }
  });
});

describe('PathMatcher: splitting and the ends of paths', () => {
  test('leading and trailing slashes are ignored; no segments match every path', () => {
    assert.deepEqual(extract('//foo', '/foo'), {});
    assert.deepEqual(extract('foo/', '/foo/x'), {});
    assert.deepEqual(extract('/foo///', '/foo'), {});
    for (const expr of ['', '/', '///']) {
      assert.deepEqual(extract(expr, '/'), {});
      assert.deepEqual(extract(expr, '/a/b'), {});
    }
  });
  test('a path shorter than the pattern does not match, even at a wildcard', () => {
    assert.equal(extract('/foo/*', '/foo'), undefined);
    assert.equal(extract('/*', '/'), undefined);
    assert.equal(extract('/{A}', '/'), undefined);
    assert.deepEqual(extract('/*', '/x'), {});
  });
  test('an empty segment inside the pattern is refused', () => {
    rejects('/a//b', /empty segment/);
  });
  test('toString is the pattern as written', () => {
    assert.equal(String(PathMatcher.compile('/a/{b}/')), '/a/{b}/');
  });
});

describe('PathMatcher.substitute', () => {
  const vars = new Map([
    ['A', 'x'],
    ['B', '$&$1$$'],
  ]);
  test('replaces every known {name}, leaves unknown ones and stray braces', () => {
    assert.equal(PathMatcher.substitute(vars, '/{A}/{A}{A}/{C}/{{A}}/{A'), '/x/xx/{C}/{x}/{A');
    assert.equal(PathMatcher.substitute(new Map(), '/{A}'), '/{A}');
    assert.equal(PathMatcher.substitute(vars, ''), '');
  });
  test('values are inserted as they are, never read as replacement patterns', () => {
    assert.equal(PathMatcher.substitute(vars, '/{B}'), '/$&$1$$');
  });
  test('a value is not substituted again', () => {
    assert.equal(PathMatcher.substitute(new Map([['A', '{B}'], ['B', 'y']]), '/{A}/{B}'), '/{B}/y');
  });
  test('substitutePath lets the parse error through when the text is not a path', () => {
    const m = PathMatcher.compile('/{A}{B}');
    assert.throws(() => m.substitutePath(readPath('/abc'), '/x/{B}/y'), DtabParseError);
    assert.throws(() => m.substitutePath(readPath('/abc'), 'no-slash/{A}'), DtabParseError);
    assert.throws(() => m.substitutePath(readPath('/abc'), '/{C}'), DtabParseError);
  });
});

describe('PathMatcher: hostile input', () => {
  test('unbalanced and empty braces are clear compile errors', () => {
    for (const expr of ['/{A', '/A}', '/{{A}}', '/{}', '/{A}}', '/{{A}', '/x{', '/}{A}{']) {
      rejects(expr, /brace outside a capture/);
    }
  });
  test('a pattern that is not a string is a TypeError', () => {
    assert.throws(() => PathMatcher.compile(undefined as unknown as string), TypeError);
    assert.throws(() => PathMatcher.compile(42 as unknown as string), TypeError);
  });
  test('10,000 segments compile and match; a path one element short does not', () => {
    const n = 10_000;
    const expr = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? '*' : i % 3 === 1 ? `{v${i}}` : `l${i}`)).join('/');
    const m = PathMatcher.compile(`/${expr}`);
    const elems = Array.from({ length: n }, (_, i) => (i % 3 === 2 ? `l${i}` : `e${i}`));
    const vars = m.extract(new Path(elems));
    assert.equal(vars?.size, Math.ceil((n - 1) / 3));
    assert.equal(vars?.get('v9997'), 'e9997');
    assert.equal(m.extract(new Path(elems.slice(0, -1))), undefined);
  });
  test('many captures in one segment, against a long element, stay fast', () => {
    const m = PathMatcher.compile(`/${Array.from({ length: 1000 }, (_, i) => `{c${i}}-`).join('')}end`);
    const long = 'a'.repeat(10_000);
    const t0 = performance.now();
    assert.equal(m.extract(Path.of(long)), undefined);
    const hit = m.extract(Path.of(`${'a-'.repeat(1500)}end`));
    assert.equal(hit?.get('c0'), 'a-'.repeat(500) + 'a');
    assert.equal(hit?.get('c999'), 'a');
    assert.ok(performance.now() - t0 < 1000, 'matching took too long');
  });
  test('no polynomial blow-up on long elements that nearly match', () => {
    // A backtracking regex spends quadratic time or worse on these.
    const m = PathMatcher.compile('/{a}x{b}y{c}z');
    const t0 = performance.now();
    for (const text of ['x'.repeat(20_000), 'xy'.repeat(10_000), `${'x'.repeat(10_000)}${'y'.repeat(10_000)}`]) {
      assert.equal(m.extract(Path.of(text)), undefined);
    }
    assert.ok(performance.now() - t0 < 1000, 'matching took too long');
  });
  test('10,000-character and escaped elements are captured whole', () => {
    const long = 'q'.repeat(10_000);
    assert.equal(extract('/{A}', Path.of(long))?.A, long);
    assert.equal(extract('/{A}', readPath('/\\x00'))?.A, '\\x00');
    assert.equal(extract('/{A}', Path.of('☃'))?.A, '\\xe2\\x98\\x83');
    assert.equal(extract('/{A}.com', Path.of(`${long}.com`))?.A, long);
  });
  test('a 10,000-character literal, and one that is nearly the element', () => {
    const long = 'q'.repeat(10_000);
    assert.deepEqual(extract(`/${long}`, Path.of(long)), {});
    assert.equal(extract(`/${long}`, Path.of(`${long}q`)), undefined);
  });
});

/** Escapes text for a RegExp; on the alphabet below this is linkerd's escaping of `.`. */
function regexLiteral(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('PathMatcher: against the regex linkerd builds', () => {
  test('a capture segment captures what a backtracking regex captures', () => {
    // A small alphabet, so that literals often occur in the text, several times.
    const unit = fc.constantFrom('a', 'b', '.', '-');
    const literal = fc.string({ unit, maxLength: 3 });
    const element = fc.string({ unit, minLength: 1, maxLength: 14 });
    fc.assert(
      fc.property(fc.array(literal, { minLength: 2, maxLength: 5 }), element, (literals, text) => {
        const names = literals.slice(1).map((_, i) => `g${i}`);
        const segment = literals.map((l, i) => (i === 0 ? l : `{${names[i - 1]}}${l}`)).join('');
        const m = PathMatcher.compile(`/${segment}`);
        const expected = new RegExp(literals.map(regexLiteral).join('(.*)'), 's').exec(text);
        const got = m.extract(new Path([text]));
        if (expected === null) {
          assert.equal(got, undefined);
        } else {
          // The names are distinct, so the values come in capture order.
          assert.deepEqual(got === undefined ? undefined : [...got.values()], expected.slice(1));
        }
      }),
      { seed: 0x5ea7, numRuns: 5000 },
    );
  });
});

describe('PathMatcher.placeholders', () => {
  test('lists every {name} of a substitution pattern in order, as substitute reads them', () => {
    assert.deepEqual(PathMatcher.placeholders('/{a}/{b}{a}/{{c}}/{d/{}'), ['a', 'b', 'a', 'c', '']);
    assert.deepEqual(PathMatcher.placeholders('/plain'), []);
    assert.equal(PathMatcher.placeholders('{x}'.repeat(10_000)).length, 10_000);
  });
});

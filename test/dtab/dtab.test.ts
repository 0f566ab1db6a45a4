// Dtab values: lookup, composition, simplification, and the path model.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Dtab, DtabCache, DtabParseError, Path, readDtab, readPath, showPathTree } from '../../src/dtab/index.ts';

const lookup = (d: string, p: string) => showPathTree(readDtab(d).lookup(readPath(p)));

describe('Dtab.lookup', () => {
  test('walks dentries last to first; position beats specificity', () => {
    assert.equal(lookup('/svc/web=>/a;/svc=>/b', '/svc/web/x'), '/b/web/x | /a/x');
    assert.equal(lookup('/svc=>/a | /b;/svc=>/c', '/svc/foo'), '/c/foo | (/a/foo | /b/foo)');
  });
  test('matches whole elements, and a wildcard matches exactly one', () => {
    assert.equal(lookup('/s=>/x', '/svc/web'), '~');
    assert.equal(lookup('/a/*/c=>/d', '/a/b/c/e/f'), '/d/e/f');
    assert.equal(lookup('/a/*=>/d', '/a'), '~');
    assert.equal(lookup('/=>/root', '/'), '/root');
  });
  test('keeps duplicates and appends the residual to every leaf', () => {
    assert.equal(lookup('/svc=>/a;/svc=>/a', '/svc/x'), '/a/x | /a/x');
    assert.equal(lookup('/svc=>0.3*/a & 0.7*(/b | ~) & !', '/svc/x/y'), '0.30*/a/x/y & 0.70*(/b/x/y | ~) & !');
  });
  test('an escaped element matches only the same bytes', () => {
    assert.equal(lookup('/a\\x2fb=>/x', '/a\\x2fb/c'), '/x/c');
    assert.equal(lookup('/a\\x2fb=>/x', '/a/b'), '~');
    assert.equal(lookup('/\\x2a=>/lit', '/q'), '~');
  });
});

describe('Dtab composition', () => {
  test('concat puts the local dtab after the base, so it wins', () => {
    const d = readDtab('/foo=>/bar').concat(readDtab('/foo=>/biz'));
    assert.equal(d.show, '/foo=>/bar;/foo=>/biz');
    assert.equal(showPathTree(d.lookup(readPath('/foo'))), '/biz | /bar');
    assert.equal(Dtab.empty.concat(d), d);
  });
  test('simplified drops dentries that simplify to ~', () => {
    assert.equal(readDtab('/a=>~;/b=>/c | ~;/d=>~ | ~;/e=>! | /f').simplified().show, '/b=>/c;/e=>!');
  });
  test('stripPrefix removes a leading run equal to another dtab', () => {
    const base = readDtab('/a=>/b;/c=>/d');
    assert.equal(base.concat(readDtab('/x=>/y')).stripPrefix(base).show, '/x=>/y');
    assert.equal(readDtab('/x=>/y').stripPrefix(base).show, '/x=>/y');
  });
  test('equality is structural; equivalence compares simplified destinations', () => {
    assert.ok(readDtab('/a => /b | /c').equals(readDtab('/a=>/b|/c')));
    assert.ok(!readDtab('/a=>/b').equals(readDtab('/a=>/c')));
    assert.ok(readDtab('/a=>/b | ~').equiv(readDtab('/a=>/b')));
  });
});

describe('Path', () => {
  test('raw labels are UTF-8 encoded, shown as escapes when not all label characters', () => {
    assert.equal(Path.of('svc', 'web').show, '/svc/web');
    assert.equal(Path.of('a b').show, '/\\x61\\x20\\x62');
    assert.equal(Path.of('é').show, '/\\xc3\\xa9');
    assert.equal(Path.of('é').elemText(0), 'é');
    assert.ok(readPath('/\\xc3\\xa9').equals(Path.of('é')));
  });
  test('take, drop, concat and startsWith work element-wise', () => {
    const p = readPath('/a/b/c');
    assert.equal(p.take(2).show, '/a/b');
    assert.equal(p.drop(2).show, '/c');
    assert.equal(p.drop(5).show, '/');
    assert.ok(p.startsWith(readPath('/a/b')));
    assert.ok(!p.startsWith(readPath('/a/bc')));
    assert.equal(readPath('/a').concat(readPath('/b/c')).show, '/a/b/c');
  });
  test('an empty element is refused', () => {
    assert.throws(() => Path.of(''), RangeError);
  });
});

describe('DtabCache', () => {
  test('returns the same parsed dtab for equal text', () => {
    const cache = new DtabCache(10);
    const a = cache.read('/a => /b');
    assert.equal(cache.read(('/a => /b ' + ' ').trim()), a);
    assert.equal(cache.size, 1);
  });
  test('caches parse errors and rethrows them', () => {
    const cache = new DtabCache(10);
    let first: unknown;
    try {
      cache.read('/a=>');
    } catch (e) {
      first = e;
    }
    assert.ok(first instanceof DtabParseError);
    assert.throws(() => cache.read('/a=>'), (e: unknown) => e === first);
  });
  test('stays within its bound', () => {
    const cache = new DtabCache(100);
    for (let i = 0; i < 1000; i++) cache.read(`/s${i}=>/t`);
    assert.equal(cache.size, 100);
  });
  test('does not keep very long texts', () => {
    const cache = new DtabCache(10, 16);
    cache.read('/aaaaaaaaaaaaaaaaaaaa=>/b');
    assert.equal(cache.size, 0);
  });
});

// Delegation trees and linkerd's delegator JSON (spec/dtab.md §8).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ok, PENDING } from '../../src/core/index.ts';
import { delegate, delegateToJson, javaDouble, type Lookup, readDtab, readPath, stringifyDelegateJson } from '../../src/dtab/index.ts';
import { type Case, mockLookup } from '../conformance/runner.ts';

const vectors = JSON.parse(readFileSync(new URL('../conformance/dtab-vectors.json', import.meta.url), 'utf8')) as Case[];

describe('delegator JSON text', () => {
  for (const c of vectors.filter((v) => v.kind === 'delegate' && !v.error)) {
    test(`${c.id} is written byte for byte as linkerd writes it`, () => {
      const r = delegate(readDtab(c.dtab!), readPath(c.path!), mockLookup(c.namers ?? {}));
      assert.equal(r.kind, 'ok');
      if (r.kind !== 'ok') return;
      // Jackson writes doubles with a fraction: weight 3 is 3.0.
      const expected = JSON.stringify(c.expect).replace(/"weight":(\d+)([,}])/g, '"weight":$1.0$2');
      assert.equal(stringifyDelegateJson(delegateToJson(r.value)), expected);
    });
  }
  test('doubles print as Java prints them', () => {
    assert.equal(javaDouble(3), '3.0');
    assert.equal(javaDouble(0.5), '0.5');
    assert.equal(javaDouble(1e-4), '1.0E-4');
    assert.equal(javaDouble(1.5e10), '1.5E10');
  });
});

describe('delegate', () => {
  const none: Lookup = () => ok({ kind: 'neg' });
  test('a cycle outside any alt fails the whole delegation', () => {
    const r = delegate(readDtab('/svc=>/a;/a=>/svc'), readPath('/svc'), none);
    assert.equal(r.kind === 'failed' && r.error.message, 'Max recursion level reached.');
  });
  test('a cycle inside an alt becomes an exception node and its siblings are still shown', () => {
    const r = delegate(readDtab('/svc=>/loop | /$/inet/127.0.0.1/1;/loop=>/loop'), readPath('/svc'), mockLookup({}));
    assert.equal(r.kind, 'ok');
    const json = r.kind === 'ok' ? JSON.stringify(delegateToJson(r.value)) : '';
    assert.match(json, /"type":"exception","path":"\/svc".*"message":"Max recursion level reached."/);
    assert.match(json, /"type":"leaf","path":"\/\$\/inet\/127.0.0.1\/1"/);
  });
  test('every branch of an alt is shown, unlike bind', () => {
    const r = delegate(readDtab('/svc=>/$/inet/127.0.0.1/1 | /$/inet/127.0.0.1/2'), readPath('/svc'), mockLookup({}));
    const json = r.kind === 'ok' ? delegateToJson(r.value) : undefined;
    assert.equal(json?.type, 'alt');
    assert.equal((json?.alt as unknown[]).length, 2);
  });
  test('a pending namer makes the delegation pending', () => {
    const r = delegate(readDtab('/svc=>/#/slow'), readPath('/svc'), () => PENDING);
    assert.equal(r.kind, 'pending');
  });
  test('a namer that throws is shown as an exception node', () => {
    const r = delegate(readDtab('/svc=>/#/bad'), readPath('/svc'), () => {
      throw new Error('namer crashed');
    });
    const json = r.kind === 'ok' ? JSON.stringify(delegateToJson(r.value)) : '';
    assert.match(json, /"type":"exception","path":"\/#\/bad","dentry":\{"prefix":"\/svc","dst":"\/#\/bad"\},"message":"namer crashed"/);
  });
  test('a path nothing matches is a neg root without a dentry', () => {
    const r = delegate(readDtab('/a=>/b'), readPath('/zzz'), none);
    assert.deepEqual(r.kind === 'ok' && delegateToJson(r.value), { type: 'neg', path: '/zzz' });
  });
});

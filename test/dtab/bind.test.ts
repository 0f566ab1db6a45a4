// Binding (spec/dtab.md §7): depth limits, alternation and union semantics, Addr merging.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { constVar, ok, PENDING } from '../../src/core/index.ts';
import {
  Addr,
  address,
  bind,
  BoundName,
  dtabLookup,
  type Lookup,
  type Name,
  type NameTree,
  Path,
  readDtab,
  readPath,
  resolveAddr,
  showTree,
  WEIGHT_META_KEY,
} from '../../src/dtab/index.ts';
import { globalNamer } from '../../src/namer/index.ts';

const global = globalNamer({ resolver: async () => [] });
const bindPath = (dtab: string, path: string, namers: Lookup = global, maxDepth?: number) =>
  bind({ kind: 'leaf', value: readPath(path) }, dtabLookup(readDtab(dtab), namers), maxDepth);

function chain(n: number, last: string): string {
  const ds = [];
  for (let i = 0; i < n; i++) ds.push(`/p${i}=>/p${i + 1}`);
  ds.push(`/p${n}=>${last}`);
  return ds.join(';');
}

describe('the depth limit counts lookups', () => {
  test('99 rewrites then /$/inet binds; one rewrite more fails', () => {
    // /p0 -> ... -> /p99 is 99 lookups, the inet lookup is the 100th.
    assert.equal(bindPath(chain(98, '/$/inet/127.0.0.1/1'), '/p0').kind, 'ok');
    const r = bindPath(chain(99, '/$/inet/127.0.0.1/1'), '/p0');
    assert.equal(r.kind, 'failed');
    assert.equal(r.kind === 'failed' && r.error.message, 'Max recursion level: 100 reached in Namer lookup');
  });
  test('a cycle fails with the depth message, and a smaller limit is honoured', () => {
    const r = bindPath('/a=>/b;/b=>/a', '/a');
    assert.equal(r.kind === 'failed' && r.error.message, 'Max recursion level: 100 reached in Namer lookup');
    const small = bindPath('/s=>/s/srv', '/s/x', global, 2);
    assert.equal(small.kind === 'failed' && small.error.message, 'Max recursion level: 2 reached in Namer lookup');
  });
});

describe('alternation', () => {
  const counting = (answers: Record<string, ReturnType<Lookup>>) => {
    const asked: string[] = [];
    const lookup: Lookup = (p) => {
      asked.push(p.show);
      return answers[p.show] ?? ok({ kind: 'neg' });
    };
    return { asked, lookup };
  };
  test('a pending branch makes the alt pending and later branches are not looked up', () => {
    const { asked, lookup } = counting({ '/a': PENDING });
    const r = bind({ kind: 'leaf', value: readPath('/p') } as NameTree<Name>, dtabLookup(readDtab('/p=>/a | /b'), lookup));
    assert.equal(r.kind, 'pending');
    assert.deepEqual(asked, ['/a']);
  });
  test('a failed branch fails the alt without fallback', () => {
    const { lookup } = counting({ '/a': { kind: 'failed', error: new Error('boom') } });
    const r = bind({ kind: 'leaf', value: readPath('/p') } as NameTree<Name>, dtabLookup(readDtab('/p=>/a | /b'), lookup));
    assert.equal(r.kind === 'failed' && r.error.message, 'boom');
  });
  test('a lookup that throws is a failed binding, not an exception', () => {
    const r = bindPath('/p=>/a', '/p', () => {
      throw new Error('namer crashed');
    });
    assert.equal(r.kind === 'failed' && r.error.message, 'namer crashed');
  });
  test('! stops an alt, $ stops it, and a union of failures falls through', () => {
    assert.equal(showBound(bindPath('/p=>! | /$/inet/1.2.3.4/1', '/p')), '!');
    assert.equal(showBound(bindPath('/p=>$ | /$/inet/1.2.3.4/1', '/p')), '$');
    assert.equal(showBound(bindPath('/p=>(! & !) | /$/inet/1.2.3.4/1', '/p')), '/$/inet/1.2.3.4/1');
  });
});

function showBound(r: ReturnType<typeof bind>): string {
  assert.equal(r.kind, 'ok', `binding is ${r.kind}`);
  return r.kind === 'ok' ? showTree(r.value, (b) => b.id.show) : '';
}

describe('unions', () => {
  test('leaves carry their branch weight in Addr metadata, even when the union collapses', () => {
    const r = bindPath('/svc=>3*/a & /b;/a=>/$/inet/10.0.0.1/80', '/svc');
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok' || r.value.kind !== 'leaf') return assert.fail('expected one leaf');
    const a = r.value.value.addr.sample();
    assert.equal(a.kind === 'bound' && a.meta[WEIGHT_META_KEY], 3);
  });
  test('the first failure is reported when no branch binds', () => {
    const namers: Lookup = (p) => ({ kind: 'failed', error: new Error(`no ${p.show}`) });
    const r = bindPath('/p=>/#/a & /#/b', '/p', namers);
    assert.equal(r.kind === 'failed' && r.error.message, 'no /#/a');
  });
});

describe('resolveAddr merges the names a bound tree denotes', () => {
  const name = (id: string, a: Addr) => ({ kind: 'leaf', value: new BoundName(constVar(a), readPath(id), Path.empty) }) as const;
  const bound = (...hp: [string, number][]) => Addr.bound(hp.map(([h, p]) => address(h, p)));
  test('one name gives its own Addr; several give the union of the bound ones', () => {
    assert.deepEqual(resolveAddr(name('/a', bound(['10.0.0.1', 1]))), bound(['10.0.0.1', 1]));
    const u: NameTree<BoundName> = {
      kind: 'union',
      trees: [
        { weight: 1, tree: name('/a', bound(['10.0.0.1', 1])) },
        { weight: 1, tree: name('/b', Addr.neg) },
        { weight: 1, tree: name('/c', bound(['10.0.0.2', 2], ['10.0.0.1', 1])) },
      ],
    };
    const r = resolveAddr(u);
    assert.equal(r.kind, 'bound');
    assert.deepEqual(r.kind === 'bound' && r.addrs.map((x) => `${x.host}:${x.port}`).sort(), ['10.0.0.1:1', '10.0.0.2:2']);
  });
  test('all neg is neg, all failed is failed, a pending one without a bound one is pending', () => {
    const two = (x: Addr, y: Addr): NameTree<BoundName> => ({
      kind: 'union',
      trees: [
        { weight: 1, tree: name('/a', x) },
        { weight: 1, tree: name('/b', y) },
      ],
    });
    assert.equal(resolveAddr(two(Addr.neg, Addr.neg)).kind, 'neg');
    assert.equal(resolveAddr(two(Addr.failed(new Error('x')), Addr.failed(new Error('y')))).kind, 'failed');
    assert.equal(resolveAddr(two(Addr.pending, Addr.neg)).kind, 'pending');
  });
  test('~ and ! resolve to neg, $ to an empty bound set', () => {
    assert.equal(resolveAddr({ kind: 'neg' }).kind, 'neg');
    assert.equal(resolveAddr({ kind: 'fail' }).kind, 'neg');
    assert.deepEqual(resolveAddr({ kind: 'empty' }), Addr.bound([]));
  });
});

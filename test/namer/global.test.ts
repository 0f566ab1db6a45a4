// The system namers under /$/ (spec/dtab.md §7.2).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Addr, AddrBound, BoundName, Name, NameTree } from '../../src/dtab/index.ts';
import { readPath } from '../../src/dtab/index.ts';
import { globalNamer, parseIPv4Literal } from '../../src/namer/index.ts';

const noDns = globalNamer({ resolver: async (h) => Promise.reject(new Error(`no such host ${h}`)) });

/** The Addr, which must be bound. */
function addrs(a: Addr): AddrBound['addrs'] {
  assert.equal(a.kind, 'bound', `addr is ${a.kind}`);
  return (a as AddrBound).addrs;
}

function bound(path: string, namer = noDns): BoundName {
  const r = namer(readPath(path));
  assert.equal(r.kind, 'ok', `lookup of ${path} is ${r.kind}`);
  const t = (r as { value: NameTree<Name> }).value;
  assert.equal(t.kind, 'leaf');
  return (t as { value: BoundName }).value;
}

describe('/$/inet', () => {
  test('host and port bind, with the rest of the path as residual', () => {
    const b = bound('/$/inet/127.0.0.1/8080/extra/stuff');
    assert.equal(b.id.show, '/$/inet/127.0.0.1/8080');
    assert.equal(b.residual.show, '/extra/stuff');
    assert.deepEqual(b.addr.sample(), { kind: 'bound', addrs: [{ host: '127.0.0.1', port: 8080, meta: {} }], meta: {} });
  });
  test('a port alone binds the wildcard address', () => {
    const b = bound('/$/inet/8080');
    assert.equal(b.id.show, '/$/inet/8080');
    assert.equal(addrs(b.addr.sample())[0]!.host, '0.0.0.0');
  });
  test('the host/port form is tried first, and IPv4 shorthand parses as Java parses it', () => {
    assert.equal(bound('/$/inet/1234/5678').id.show, '/$/inet/1234/5678');
    assert.equal(parseIPv4Literal('1234'), '0.0.4.210');
    assert.equal(parseIPv4Literal('127.1'), '127.0.0.1');
    assert.equal(parseIPv4Literal('10.1.2'), '10.1.0.2');
    assert.equal(parseIPv4Literal('256.1.1.1'), undefined);
    assert.equal(parseIPv4Literal('1.2.3.4.5'), undefined);
    assert.equal(parseIPv4Literal('example.com'), undefined);
  });
  test('fixedinet binds like inet; an IPv6 literal binds as is', () => {
    assert.equal(bound('/$/fixedinet/10.0.0.1/80').id.show, '/$/fixedinet/10.0.0.1/80');
    assert.equal(addrs(bound('/$/inet/::1/80').addr.sample())[0]!.host, '::1');
  });
  test('a port out of range fails; a non-numeric port is an unknown namer', () => {
    const r = noDns(readPath('/$/inet/host/70000'));
    assert.equal(r.kind === 'failed' && r.error.message, 'port out of range:70000');
    const u = noDns(readPath('/$/inet/web/http'));
    assert.equal(u.kind === 'failed' && u.error.message, 'Unknown namer: inet for path: /$/inet/web/http');
    const bare = noDns(readPath('/$/inet'));
    assert.equal(bare.kind === 'failed' && bare.error.message, 'Unknown namer: inet for path: /$/inet');
  });
  test('a host name is pending until DNS answers, then bound', async () => {
    let answer!: (ips: string[]) => void;
    const namer = globalNamer({ resolver: () => new Promise<string[]>((r) => (answer = r)) });
    const b = bound('/$/inet/web.example/80', namer);
    const seen: Addr['kind'][] = [];
    const sub = b.addr.observe((a) => seen.push(a.kind));
    assert.deepEqual(seen, ['pending']);
    answer(['10.0.0.7', '10.0.0.8']);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['pending', 'bound']);
    assert.equal(addrs(b.addr.sample()).length, 2);
    sub.close();
  });
  test('a host DNS cannot resolve is failed, not a crash', async () => {
    const b = bound('/$/inet/nowhere.invalid/80');
    const seen: string[] = [];
    const sub = b.addr.observe((a) => seen.push(a.kind));
    await new Promise((r) => setImmediate(r));
    sub.close();
    assert.deepEqual(seen, ['pending', 'failed']);
  });
});

describe('the other system paths', () => {
  test('/$/nil is empty and /$/fail fails, with any residual', () => {
    assert.deepEqual(noDns(readPath('/$/nil/x/y')), { kind: 'ok', value: { kind: 'empty' } });
    assert.deepEqual(noDns(readPath('/$/fail')), { kind: 'ok', value: { kind: 'fail' } });
  });
  test('an unknown kind fails by its name, element-wise (/$/failure is not fail)', () => {
    const r = noDns(readPath('/$/failure/x'));
    assert.equal(r.kind === 'failed' && r.error.message, 'Unknown namer: failure for path: /$/failure/x');
  });
  test('paths outside /$/, and /$ alone, are neg', () => {
    assert.deepEqual(noDns(readPath('/#/io.l5d.fs/web')), { kind: 'ok', value: { kind: 'neg' } });
    assert.deepEqual(noDns(readPath('/$')), { kind: 'ok', value: { kind: 'neg' } });
  });
  test('registered system namers answer for their kind', () => {
    const namer = globalNamer({
      systemNamers: new Map([['io.test', (rest) => ({ kind: 'ok', value: { kind: 'leaf', value: rest } })]]),
    });
    const r = namer(readPath('/$/io.test/a/b'));
    assert.equal(r.kind === 'ok' && r.value.kind === 'leaf' && (r.value.value as { show: string }).show, '/a/b');
  });
});

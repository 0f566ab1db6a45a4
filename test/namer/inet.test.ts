// Host names under /$/inet re-resolve while observed: a changed DNS answer reaches observers,
// a failed refresh keeps the last good addresses, and nothing resolves once nobody watches.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Addr } from '../../src/dtab/index.ts';
import { inetAddr } from '../../src/namer/index.ts';

function text(a: Addr): string {
  if (a.kind === 'bound') return a.addrs.map((x) => `${x.host}:${x.port}`).join(',');
  return a.kind === 'failed' ? `failed: ${a.error.message}` : a.kind;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a refreshed answer reaches observers; a DNS failure keeps the last good addresses', async () => {
  const answers: (string[] | Error)[] = [['10.0.0.1'], ['10.0.0.1'], ['10.0.0.2'], new Error('SERVFAIL'), []];
  let calls = 0;
  const stale: string[] = [];
  const addr = inetAddr('web.test', 80, {
    resolver: async () => {
      const a = answers[Math.min(calls++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a;
    },
    refreshMs: 10,
    onStale: (host, e) => stale.push(`${host}: ${e.message}`),
  });
  const seen: string[] = [];
  const c = addr.observe((a) => seen.push(text(a)));
  while (calls < answers.length + 1) await wait(5);
  c.close();
  // The repeated answer caused no update; the failure none either; the empty answer is neg.
  assert.deepEqual(seen, ['pending', '10.0.0.1:80', '10.0.0.2:80', 'neg']);
  assert.deepEqual(stale, ['web.test: SERVFAIL']);

  const before = calls;
  await wait(40);
  assert.equal(calls, before, 'no resolution once nobody observes');
});

test('a host that never resolved is failed, and recovers when DNS answers', async () => {
  let up = false;
  const addr = inetAddr('late.test', 443, {
    resolver: async (h) => {
      if (!up) throw new Error(`getaddrinfo ENOTFOUND ${h}`);
      return ['192.0.2.7'];
    },
    refreshMs: 10,
  });
  const seen: string[] = [];
  const c = addr.observe((a) => seen.push(text(a)));
  await wait(25);
  up = true;
  while (seen.length < 3) await wait(5);
  c.close();
  assert.deepEqual(seen, ['pending', 'failed: getaddrinfo ENOTFOUND late.test', '192.0.2.7:443']);
});

test('literals bind at once without DNS', () => {
  const addr = inetAddr('127.1', 8080, async () => assert.fail('no DNS for a literal'));
  assert.equal(text(addr.sample()), '127.0.0.1:8080');
  assert.equal(text(inetAddr('::1', 80, async () => []).sample()), '::1:80');
});

// The client's load balancers: p2c spreads evenly, heap takes the least loaded, roundRobin
// cycles, weights divide load, failure accrual's exclusions are honoured without ever
// black-holing a service, and ewma moves load away from a slow replica end to end.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { constantBackoff } from '../../src/core/index.ts';
import { address } from '../../src/dtab/index.ts';
import { Balancer, type Endpoint, type EndpointHealth, FailureAccrual, ownMeters, PeakEwma } from '../../src/proxy/index.ts';
import { Disco, fsConfig, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

function endpoint(port: number, load = 0): Endpoint & { load: number } {
  return { address: address('127.0.0.1', port), key: `127.0.0.1:${port}`, load, size: 0, waiting: 0, meters: ownMeters(), close() {} };
}

function counts(b: Balancer<Endpoint>, eps: Endpoint[], n: number, weights?: number[], health?: Map<Endpoint, EndpointHealth>): number[] {
  const c = eps.map(() => 0);
  for (let i = 0; i < n; i++) c[eps.indexOf(b.pick(eps, weights, health)!)]!++;
  return c;
}

describe('balancers', () => {
  test('p2c spreads requests evenly over equal endpoints', () => {
    const eps = [endpoint(1), endpoint(2), endpoint(3), endpoint(4)];
    const c = counts(new Balancer({ kind: 'p2c', decayTimeMs: 1000 }), eps, 40_000);
    for (const x of c) assert.ok(Math.abs(x - 10_000) < 600, String(c));
  });

  test('p2c prefers the less loaded, weighted', () => {
    const eps = [endpoint(1, 10), endpoint(2, 0)];
    assert.deepEqual(counts(new Balancer({ kind: 'p2c', decayTimeMs: 1000 }), eps, 100), [0, 100]);
    // Weight 100 makes 10 outstanding requests weigh 0.1: below the other's 1.
    const loaded = [endpoint(1, 10), endpoint(2, 1)];
    assert.deepEqual(counts(new Balancer({ kind: 'p2c', decayTimeMs: 1000 }), loaded, 100, [100, 1]), [100, 0]);
  });

  test('heap takes the least loaded; roundRobin cycles', () => {
    const eps = [endpoint(1, 3), endpoint(2, 1), endpoint(3, 2)];
    assert.deepEqual(counts(new Balancer({ kind: 'heap', decayTimeMs: 1000 }), eps, 10), [0, 10, 0]);
    const rr = new Balancer<Endpoint>({ kind: 'roundRobin', decayTimeMs: 1000 });
    assert.deepEqual(Array.from({ length: 6 }, () => rr.pick(eps, undefined)!.key), [1, 2, 3, 1, 2, 3].map((p) => `127.0.0.1:${p}`));
  });

  test('endpoints taken out are skipped; when all are out, all are used', () => {
    const counters = { removals: 0, revivals: 0, probes: 0 };
    const eps = [endpoint(1), endpoint(2), endpoint(3)];
    const health = new Map<Endpoint, EndpointHealth>();
    const takeOut = (e: Endpoint): void => {
      const accrual = new FailureAccrual({ kind: 'io.l5d.consecutiveFailures', failures: 1, backoff: constantBackoff(60_000) }, counters);
      accrual.record(false);
      health.set(e, { accrual, latency: undefined });
    };
    takeOut(eps[0]!);
    takeOut(eps[1]!);
    for (const kind of ['p2c', 'heap', 'roundRobin', 'ewma'] as const) assert.deepEqual(counts(new Balancer({ kind, decayTimeMs: 1000 }), eps, 50, undefined, health), [0, 0, 50], kind);
    takeOut(eps[2]!);
    const all = counts(new Balancer({ kind: 'p2c', decayTimeMs: 1000 }), eps, 300, undefined, health);
    assert.equal(all.reduce((a, b) => a + b), 300);
    assert.ok(all.every((x) => x > 0), String(all));
  });

  test('aperture keeps its window within its load band: one endpoint when idle, more under load', async () => {
    const eps = Array.from({ length: 10 }, (_, i) => endpoint(i + 1));
    const b = new Balancer<Endpoint>({ kind: 'aperture', decayTimeMs: 1000, lowLoad: 0.5, highLoad: 2, minAperture: 1, smoothWindowMs: 1 });
    const used = new Set<Endpoint>();
    for (let i = 0; i < 200; i++) used.add(b.pick(eps, undefined)!);
    assert.equal(used.size, 1, 'idle: one connection');
    assert.equal(b.aperture, 1);
    // Eight requests outstanding on every endpoint: the window widens until each carries at
    // most highLoad on average, which this load cannot reach, so it opens wide.
    for (const e of eps) (e as { load: number }).load = 8;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 2));
      b.pick(eps, undefined);
    }
    assert.equal(b.aperture, 10);
    // A moderate load (3 outstanding in all) settles between the band's bounds.
    for (const e of eps) (e as { load: number }).load = 0;
    (eps[0] as { load: number }).load = 3;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 2));
      b.pick(eps, undefined);
    }
    assert.ok(b.aperture >= 1 && b.aperture <= 6, `aperture ${b.aperture}`);
  });

  test('peak EWMA rises at once with a slow answer and fades with time', () => {
    const e = new PeakEwma(1000);
    e.observe(10, 0);
    e.observe(100, 10);
    assert.equal(e.cost(10), 100);
    e.observe(10, 20);
    assert.ok(e.cost(20) < 100 && e.cost(20) > 90);
    assert.ok(e.cost(5000) < 1);
  });
});

describe('ewma end to end', () => {
  const disco = new Disco();
  let fast: Upstream;
  let slow: Upstream;
  let d: RunningDaemon;
  before(async () => {
    const delayed = (name: string, ms: number): Promise<Upstream> =>
      upstream(name, (req, res) => {
        req.resume();
        setTimeout(() => res.end(name), ms);
      });
    fast = await delayed('fast', 2);
    slow = await delayed('slow', 25);
    disco.set('web', fast.port, slow.port);
    d = await startDaemon(fsConfig(disco.dir, '  client:\n    loadBalancer: {kind: ewma, decayTimeMs: 2000}'));
  });
  after(async () => {
    await d.close();
    await Promise.all([fast.close(), slow.close()]);
    disco.close();
  });

  test('ewma moves load away from a replica ten times slower', async () => {
    const before = { fast: fast.seen.length, slow: slow.seen.length };
    // Eight callers at a time.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 25; i++) assert.equal((await send(d.port(), { headers: { host: 'web' } })).status, 200);
      }),
    );
    const toSlow = slow.seen.length - before.slow;
    const toFast = fast.seen.length - before.fast;
    assert.equal(toSlow + toFast, 200);
    assert.ok(toSlow < 40, `${toSlow} of 200 went to the slow replica`);
  });
});

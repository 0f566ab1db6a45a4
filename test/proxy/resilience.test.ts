// Client resilience: failure accrual on its own (virtual time), the balancer never ejecting
// every endpoint, and end to end through the daemon: a replica that refuses connections is
// requeued around, and one that answers 500s is taken out and probed back in.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { constantBackoff, equalJitteredBackoff } from '../../src/core/index.ts';
import { FailureAccrual } from '../../src/proxy/index.ts';
import { Disco, eventually, fsConfig, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';
import { deadPort } from '../support/raw.ts';

describe('failure accrual', () => {
  test('consecutive failures take an endpoint out; after the backoff one probe decides', () => {
    let now = 0;
    const counters = { removals: 0, revivals: 0, probes: 0 };
    const a = new FailureAccrual({ kind: 'io.l5d.consecutiveFailures', failures: 3, backoff: constantBackoff(1000) }, counters, () => now);
    a.record(false);
    a.record(false);
    a.record(true);
    a.record(false);
    a.record(false);
    assert.equal(a.state, 'alive');
    a.record(false);
    assert.equal(a.state, 'dead');
    assert.equal(a.available(), false);
    now = 999;
    assert.equal(a.available(), false);
    now = 1000;
    assert.equal(a.available(), true);
    assert.equal(a.state, 'probing');
    assert.equal(a.available(), false, 'one probe at a time');
    a.record(false);
    assert.equal(a.state, 'dead');
    now = 2000;
    assert.equal(a.available(), true);
    a.record(true);
    assert.equal(a.state, 'alive');
    assert.deepEqual(counters, { removals: 1, revivals: 1, probes: 2 });
  });

  test('says each change of state, and only those, to whoever keeps gauges of it', () => {
    let now = 0;
    const states: string[] = [];
    const counters = { removals: 0, revivals: 0, probes: 0, changed: () => states.push(a.state) };
    const a = new FailureAccrual({ kind: 'io.l5d.consecutiveFailures', failures: 2, backoff: constantBackoff(100) }, counters, () => now);
    a.record(false);
    a.record(true);
    a.record(false);
    a.record(false);
    assert.equal(a.available(), false);
    now = 100;
    assert.equal(a.available(), true);
    assert.equal(a.available(), false);
    a.record(false);
    now = 200;
    assert.equal(a.available(), true);
    a.record(true);
    a.record(true);
    assert.deepEqual(states, ['dead', 'probing', 'dead', 'probing', 'alive']);
  });

  test('io.l5d.successRate: an endpoint is taken out when its moving success rate falls below the target', () => {
    let now = 0;
    const counters = { removals: 0, revivals: 0, probes: 0 };
    const a = new FailureAccrual({ kind: 'io.l5d.successRate', failures: Infinity, successRate: 0.9, requests: 10, backoff: constantBackoff(100) }, counters, () => now);
    // Failures alternating with successes: a rate of about a half, but not before 10 answers.
    for (let i = 0; i < 8; i++) a.record(i % 2 === 0);
    assert.equal(a.state, 'alive');
    for (let i = 0; i < 4 && a.state === 'alive'; i++) a.record(i % 2 === 0);
    assert.equal(a.state, 'dead');
    now = 100;
    assert.equal(a.available(), true);
    a.record(true);
    assert.equal(a.state, 'alive');
    // A rare failure among many successes leaves it in.
    for (let i = 0; i < 100; i++) a.record(i % 20 !== 0);
    assert.equal(a.state, 'alive');
  });

  test('io.l5d.successRateWindowed: the success rate over the last window decides', () => {
    let now = 0;
    const counters = { removals: 0, revivals: 0, probes: 0 };
    const a = new FailureAccrual({ kind: 'io.l5d.successRateWindowed', failures: Infinity, successRate: 0.5, windowMs: 1000, backoff: constantBackoff(100) }, counters, () => now);
    for (let i = 0; i < 10; i++) a.record(true);
    now = 2000;
    // The successes have left the window: one failure is all there is.
    a.record(false);
    assert.equal(a.state, 'dead');
    assert.equal(counters.removals, 1);
  });

  test('equal-jittered backoff starts at its minimum, grows, and stays under its maximum', () => {
    const seq = equalJitteredBackoff(5000, 300_000)(() => 0.5);
    const delays = Array.from({ length: 12 }, () => seq.next());
    assert.equal(delays[0], 5000);
    for (let i = 1; i < delays.length; i++) assert.ok(delays[i]! <= 300_000 && delays[i]! >= delays[i - 1]! / 2, String(delays));
    assert.equal(delays.at(-1), 300_000);
  });
});

describe('through the daemon', () => {
  const disco = new Disco();
  let good: Upstream;
  let bad: Upstream;
  let d: RunningDaemon;
  before(async () => {
    good = await upstream('good');
    bad = await upstream('bad', (req, res) => {
      req.resume();
      res.writeHead(500);
      res.end('bad');
    });
    disco.set('refusing', good.port, await deadPort());
    disco.set('flaky', good.port, bad.port);
    disco.set('allbad', bad.port);
    d = await startDaemon(
      fsConfig(
        disco.dir,
        `  client:
    failureAccrual:
      kind: io.l5d.consecutiveFailures
      failures: 5
      backoff: {kind: constant, ms: 400}`,
      ),
    );
  });
  after(async () => {
    await d.close();
    await Promise.all([good.close(), bad.close()]);
    disco.close();
  });

  test('a replica that refuses connections is requeued around: the caller sees no error', async () => {
    const router = d.daemon.routers().values().next().value!.router;
    const before = router.requeues;
    for (let i = 0; i < 100; i++) {
      const r = await send(d.port(), { method: i % 2 === 0 ? 'GET' : 'POST', headers: { host: 'refusing' }, body: i % 2 === 0 ? undefined : 'payload' });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.body, 'good');
    }
    assert.ok(router.requeues > before, 'requeues counted');
    // Five refusals in a row took the dead replica out: most requests never tried it.
    assert.ok(router.requeues - before <= 20, `${router.requeues - before} requeues`);
    assert.ok(router.clients().some((c) => c.accrualCounters.removals >= 1));
  });

  test('a replica answering 500s is taken out after five, then probed back in after the backoff', async () => {
    const hitsBad = (): number => bad.seen.length;
    let failures = 0;
    for (let i = 0; i < 60; i++) if ((await send(d.port(), { headers: { host: 'flaky' } })).status !== 200) failures++;
    // Five 500s take it out; until the backoff passes no request goes there.
    assert.ok(failures >= 5 && failures <= 7, `${failures} failures`);
    const seen = hitsBad();
    await new Promise((r) => setTimeout(r, 450));
    // After the backoff, one probe reaches it (and fails, so it is out again).
    await eventually(async () => {
      await send(d.port(), { headers: { host: 'flaky' } });
      return hitsBad() > seen;
    }, 3000, 'a probe');
    assert.equal(hitsBad(), seen + 1);
  });

  test('when every replica is out, requests still go to them rather than nowhere', async () => {
    for (let i = 0; i < 12; i++) {
      const r = await send(d.port(), { headers: { host: 'allbad' } });
      assert.equal(r.status, 500, `request ${i}: ${r.body}`);
      assert.equal(r.body, 'bad');
    }
  });
});

describe('hostConnectionPool', () => {
  const disco = new Disco();
  let slow: Upstream;
  const ports = new Set<number>();
  let d: RunningDaemon;
  before(async () => {
    slow = await upstream('slow', (req, res) => {
      ports.add(req.socket.remotePort ?? 0);
      req.resume();
      setTimeout(() => res.end('slow'), 100);
    });
    disco.set('one', slow.port);
    disco.set('two', slow.port);
    d = await startDaemon(
      fsConfig(
        disco.dir,
        `  client:
    kind: io.l5d.static
    configs:
    - prefix: /#/io.l5d.fs/one
      hostConnectionPool: {maxSize: 1}
    - prefix: /#/io.l5d.fs/two
      hostConnectionPool: {maxSize: 1, maxWaiters: 1}`,
      ),
    );
  });
  after(async () => {
    await d.close();
    await slow.close();
    disco.close();
  });

  test('maxSize: concurrent requests wait for the one connection, and all are answered', async () => {
    ports.clear();
    const replies = await Promise.all(Array.from({ length: 5 }, () => send(d.port(), { headers: { host: 'one' } })));
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200, 200, 200]);
    assert.equal(ports.size, 1, 'one upstream connection');
  });

  test('maxWaiters: past it, a request is refused with 503 at once', async () => {
    const replies = await Promise.all(Array.from({ length: 3 }, () => send(d.port(), { headers: { host: 'two' } })));
    const statuses = replies.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 503]);
    assert.match(replies.find((r) => r.status === 503)!.body, /^Too many waiters/);
  });
});

describe('failFast', () => {
  const disco = new Disco();
  let good: Upstream;
  const daemons: RunningDaemon[] = [];
  before(async () => {
    good = await upstream('good');
    disco.set('half', good.port, await deadPort());
  });
  after(async () => {
    for (const d of daemons) await d.close();
    await good.close();
    disco.close();
  });

  const requeuesOver50 = async (client: string): Promise<number> => {
    const d = await startDaemon(fsConfig(disco.dir, `  client:\n${client}`));
    daemons.push(d);
    const router = d.daemon.routers().values().next().value!.router;
    for (let i = 0; i < 50; i++) assert.equal((await send(d.port(), { headers: { host: 'half' } })).status, 200);
    return router.requeues;
  };

  test('an endpoint that cannot be connected to is left alone until it can', async () => {
    const without = await requeuesOver50('    failureAccrual: {kind: none}');
    const withFailFast = await requeuesOver50('    failureAccrual: {kind: none}\n    failFast: true');
    assert.ok(without >= 10, `${without} requeues without failFast`);
    assert.ok(withFailFast <= 2, `${withFailFast} requeues with failFast`);
  });
});

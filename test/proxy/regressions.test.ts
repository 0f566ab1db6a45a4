// Cases found in review, each once a bug: deadlines beyond a timer's range, metrics across a
// reload, waiters that left a full pool, probes that were never sent, and the idle timeout
// cutting a request still waiting for its answer.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { constantBackoff } from '../../src/core/index.ts';
import { address } from '../../src/dtab/index.ts';
import { Balancer, type Endpoint, type EndpointHealth, FailureAccrual, ownMeters } from '../../src/proxy/index.ts';
import { parseConfigText } from '../../src/config/index.ts';
import { Disco, eventually, fsConfig, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

describe('review regressions', () => {
  const disco = new Disco();
  let good: Upstream;
  let slow: Upstream;
  const daemons: RunningDaemon[] = [];
  before(async () => {
    good = await upstream('good');
    slow = await upstream('slow', (req, res) => {
      req.resume();
      setTimeout(() => res.end('slow'), 600);
    });
    disco.set('web', good.port);
    disco.set('slow', slow.port);
  });
  after(async () => {
    for (const d of daemons) await d.close();
    await Promise.all([good.close(), slow.close()]);
    disco.close();
  });

  test('a deadline weeks away is no deadline at all', async () => {
    const d = await startDaemon(fsConfig(disco.dir));
    daemons.push(d);
    const far = BigInt(Date.now() + 30 * 24 * 3600_000) * 1_000_000n;
    const r = await send(d.port(), { headers: { host: 'web', 'l5d-ctx-deadline': `0 ${far}` } });
    assert.equal(r.status, 200);
  });

  test('a request waiting for a slow answer outlasts the idle timeout', async () => {
    const d = await startDaemon(fsConfig(disco.dir, '', '    idleTimeoutMs: 200'));
    daemons.push(d);
    const r = await send(d.port(), { headers: { host: 'slow' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'slow');
  });

  test("a replaced router's successor keeps its client metrics", async () => {
    const yaml = (dtab: string, port: number): string => `admin: {ip: 127.0.0.1, port: 0, shutdownGraceMs: 50}
namers:
- kind: io.l5d.fs
  rootDir: ${disco.dir}
routers:
- protocol: http
  label: r
  dtab: ${dtab}
  servers: [{port: ${port}}]
`;
    const d = await startDaemon(yaml('/svc => /#/io.l5d.fs', 0));
    daemons.push(d);
    const port = d.port();
    await d.daemon.reload(parseConfigText(yaml('/svc => /#/io.l5d.fs', port), 'a.yaml'));
    await send(port, { headers: { host: 'web' } });
    await d.daemon.reload(parseConfigText(yaml('/svc => /#/io.l5d.fs; /svc/x => /#/io.l5d.fs/web', port), 'b.yaml'));
    await send(port, { headers: { host: 'web' } });
    // The old router closes after the grace period; the new one's metrics stay.
    await new Promise((r) => setTimeout(r, 150));
    await send(port, { headers: { host: 'web' } });
    const m = JSON.parse((await send(d.adminPort, { path: '/admin/metrics.json' })).body) as Record<string, number>;
    // The counters carry on across the reload, as linkerd's do.
    assert.equal(m['rt/r/client/#/io.l5d.fs/web/requests'], 3);
  });

  test('a waiter that left a full pool holds no place in it', async () => {
    const d = await startDaemon(
      fsConfig(disco.dir, '  client:\n    hostConnectionPool: {maxSize: 1, maxWaiters: 1}\n  service:\n    totalTimeoutMs: 200'),
    );
    daemons.push(d);
    // A takes the one connection for 600 ms; B waits and times out at 200 ms; C may then wait.
    const a = send(d.port(), { headers: { host: 'slow' } });
    await new Promise((r) => setTimeout(r, 20));
    const b = await send(d.port(), { headers: { host: 'slow' } });
    assert.equal(b.status, 503);
    assert.match(b.body, /^exceeded 200\.milliseconds/);
    const c = await send(d.port(), { headers: { host: 'slow' } });
    assert.notEqual(c.body.slice(0, 16), 'Too many waiters');
    await a;
    const endpoint = d.daemon.routers().get('http')!.router.endpoints.endpoints()[0]!;
    await eventually(() => endpoint.waiting === 0 && endpoint.size <= 1, 3000, 'the pool at rest');
  });

  test('every endpoint due a probe gets one, whichever the balancer looks at first', () => {
    let now = 0;
    const counters = { removals: 0, revivals: 0, probes: 0 };
    const eps: Endpoint[] = [1, 2, 3, 4].map((p) => ({ address: address('127.0.0.1', p), key: `127.0.0.1:${p}`, load: 0, size: 0, waiting: 0, meters: ownMeters(), close() {} }));
    const health = new Map<Endpoint, EndpointHealth>();
    for (const e of eps.slice(1)) {
      const accrual = new FailureAccrual({ kind: 'io.l5d.consecutiveFailures', failures: 1, backoff: constantBackoff(100) }, counters, () => now);
      accrual.record(false);
      health.set(e, { accrual, latency: undefined });
    }
    now = 100;
    for (const kind of ['p2c', 'aperture'] as const) {
      const b = new Balancer<Endpoint>({ kind, decayTimeMs: 1000, minAperture: 4 });
      const picked = new Set<Endpoint>();
      for (let i = 0; i < 2000; i++) {
        const e = b.pick(eps, undefined, health)!;
        picked.add(e);
        // A probe that succeeds revives its endpoint; then it is just one more.
        health.get(e)?.accrual?.record(true);
      }
      assert.equal(picked.size, 4, kind);
      for (const e of eps.slice(1)) {
        health.get(e)!.accrual!.record(false);
        health.get(e)!.accrual!.record(false);
      }
      now += 1000;
    }
  });

  test('requestAttemptTimeoutMs counts the wait for a pooled connection', async () => {
    const d = await startDaemon(fsConfig(disco.dir, '  client:\n    hostConnectionPool: {maxSize: 1}\n    requestAttemptTimeoutMs: 200'));
    daemons.push(d);
    const a = send(d.port(), { headers: { host: 'slow' } });
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    const b = await send(d.port(), { method: 'POST', headers: { host: 'slow' }, body: 'x' });
    assert.equal(b.status, 503);
    assert.match(b.body, /excluding retries$/);
    assert.ok(Date.now() - t0 < 500);
    assert.equal((await a).status, 503, 'the first one times out too: it took 600 ms');
  });
});

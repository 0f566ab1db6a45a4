// A client's gauges are set where what they show changes, and its sums over endpoints are
// added up by the export thread: these scrapes go through the thread and are checked against
// what the requests in flight, the pools and failure accrual are at that moment, and against
// the event loop's own reading of the same gauges.

import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Disco, eventually, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

const CLIENT = 'rt/gauges/client/#/io.l5d.fs';

describe('client gauges set as they change', () => {
  const disco = new Disco();
  let held: Upstream;
  let flaky: Upstream;
  let good: Upstream;
  let d: RunningDaemon;
  /** Responses the held upstream keeps until let go. */
  let waiting: ServerResponse[] = [];
  let flakyStatus = 503;

  before(async () => {
    held = await upstream('held', (req, res) => {
      req.resume();
      waiting.push(res);
    });
    flaky = await upstream('flaky', (req, res) => {
      req.resume();
      res.writeHead(flakyStatus);
      res.end();
    });
    good = await upstream('good');
    // Two names, one address: the clients share the endpoint and its pool.
    disco.set('web', held.port);
    disco.set('web2', held.port);
    disco.set('mixed', good.port, flaky.port);
    d = await startDaemon(`admin: {ip: 127.0.0.1, port: 0, exportThreadMinMetrics: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${disco.dir}
routers:
- protocol: http
  label: gauges
  dtab: /svc => /#/io.l5d.fs
  client:
    hostConnectionPool: {maxSize: 2, idleTimeMs: 300}
    failureAccrual: {kind: io.l5d.consecutiveFailures, failures: 2, backoff: {kind: constant, ms: 200}}
  servers:
  - port: 0
`);
  });
  after(async () => {
    for (const r of waiting) r.end();
    await d.close();
    await Promise.all([held.close(), flaky.close(), good.close()]);
    disco.close();
  });

  /** metrics.json as the export thread writes it, checked against the event loop's reading. */
  async function scrape(): Promise<Record<string, number>> {
    const written = d.daemon.admin.exporter.written;
    const r = await send(d.adminPort, { path: '/admin/metrics.json' });
    assert.equal(r.status, 200);
    assert.equal(d.daemon.admin.exporter.written, written + 1, 'written by the export thread');
    const m = JSON.parse(r.body) as Record<string, number>;
    const mine = d.daemon.metrics.flat(CLIENT);
    for (const [k, v] of Object.entries(mine)) if (/\/(loadbalancer|pool_|failure_accrual)/.test(k)) assert.equal(m[k], v, k);
    return m;
  }

  test('load, pool size and waiters follow the requests in flight, for every client of a shared endpoint', async () => {
    // web2's first request makes its client, over the endpoint web's will use.
    const first = send(d.port(), { headers: { host: 'web2' } });
    await eventually(() => waiting.length === 1, 3000, 'web2 upstream');
    waiting.shift()!.end('ok');
    assert.equal((await first).status, 200);
    const replies = [1, 2, 3].map(() => send(d.port(), { headers: { host: 'web' } }));
    // Two connections, the pool's most: the third request waits for one.
    await eventually(() => waiting.length === 2, 3000, 'two requests upstream');
    let m = await scrape();
    for (const name of ['web', 'web2']) {
      assert.equal(m[`${CLIENT}/${name}/loadbalancer/load`], 3, name);
      assert.equal(m[`${CLIENT}/${name}/pool_size`], 2, name);
      assert.equal(m[`${CLIENT}/${name}/pool_waiters`], 1, name);
      assert.equal(m[`${CLIENT}/${name}/loadbalancer/size`], 1, name);
      assert.equal(m[`${CLIENT}/${name}/loadbalancer/available`], 1, name);
    }
    // The two answers free the connections; the waiting request takes one.
    for (const r of waiting.splice(0)) r.end('ok');
    await eventually(() => waiting.length === 1, 3000, 'the third request upstream');
    waiting.shift()!.end('ok');
    for (const r of await Promise.all(replies)) assert.equal(r.status, 200);
    m = await scrape();
    assert.equal(m[`${CLIENT}/web/loadbalancer/load`], 0);
    assert.equal(m[`${CLIENT}/web/pool_waiters`], 0);
    assert.equal(m[`${CLIENT}/web/pool_size`], 2);
    // Idle connections close after idleTimeMs.
    await eventually(async () => (await scrape())[`${CLIENT}/web/pool_size`] === 0, 3000, 'idle connections closed');
  });

  test('the endpoint set and failure accrual move size, available, removals, probes and revivals', async () => {
    let m: Record<string, number> = {};
    // Until the flaky endpoint has failed twice in a row (the balancer picks at random).
    await eventually(async () => {
      await send(d.port(), { headers: { host: 'mixed' } });
      m = await scrape();
      return m[`${CLIENT}/mixed/failure_accrual/removals`] === 1;
    }, 5000, 'a removal');
    assert.equal(m[`${CLIENT}/mixed/loadbalancer/size`], 2);
    assert.equal(m[`${CLIENT}/mixed/loadbalancer/available`], 1);
    assert.equal(m[`${CLIENT}/mixed/failure_accrual/revivals`], 0);
    // It answers well again; after the backoff a probe finds it so.
    flakyStatus = 200;
    await eventually(async () => {
      await send(d.port(), { headers: { host: 'mixed' } });
      m = await scrape();
      return m[`${CLIENT}/mixed/failure_accrual/revivals`] === 1;
    }, 5000, 'a revival');
    assert.ok(m[`${CLIENT}/mixed/failure_accrual/probes`]! >= 1);
    assert.equal(m[`${CLIENT}/mixed/loadbalancer/available`], 2);
    // The flaky endpoint leaves the set: the sums no longer count its pool.
    disco.set('mixed', good.port);
    await eventually(async () => (await scrape())[`${CLIENT}/mixed/loadbalancer/size`] === 1, 3000, 'the set of one');
    await send(d.port(), { headers: { host: 'mixed' } });
    m = await scrape();
    assert.equal(m[`${CLIENT}/mixed/loadbalancer/available`], 1);
    assert.equal(m[`${CLIENT}/mixed/pool_size`], d.daemon.routers().get('gauges')!.router.endpoints.endpoints().find((e) => e.key === `127.0.0.1:${good.port}`)!.size);
  });
});

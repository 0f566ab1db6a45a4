// A client's gauges are set where what they show changes, and its sums over endpoints are
// added up by the export thread: these scrapes go through the thread and are checked against
// what the requests in flight, the pools and failure accrual are at that moment, and against
// the event loop's own reading of the same gauges.

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Disco, eventually, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

const CLIENT = 'rt/gauges/client/#/io.l5d.fs';
const SOLO = 'rt/solo/client/#/io.l5d.fs';

/** A request on a connection of its own, left open; the caller destroys it to give up. */
function rawRequest(port: number, host: string): Socket {
  const s = connect(port, '127.0.0.1', () => s.write(`GET / HTTP/1.1\r\nhost: ${host}\r\n\r\n`));
  s.on('error', () => {});
  return s;
}

describe('client gauges set as they change', () => {
  const disco = new Disco();
  let held: Upstream;
  /** Holds requests too, at an address only one name has. */
  let lone: Upstream;
  let flaky: Upstream;
  let good: Upstream;
  let d: RunningDaemon;
  /** Responses the holding upstreams keep until let go. */
  let waiting: ServerResponse[] = [];
  let flakyStatus = 503;
  const hold = (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    waiting.push(res);
  };

  before(async () => {
    held = await upstream('held', hold);
    lone = await upstream('lone', hold);
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
    disco.set('web3', held.port);
    disco.set('moving', lone.port);
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
- protocol: http
  label: solo
  dtab: /svc => /#/io.l5d.fs
  client:
    hostConnectionPool: {maxSize: 1}
  servers:
  - port: 0
`);
  });
  after(async () => {
    for (const r of waiting) r.end();
    await d.close();
    await Promise.all([held.close(), lone.close(), flaky.close(), good.close()]);
    disco.close();
  });

  /** The client gauges as the event loop reads them. */
  const gauges = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const scope of [CLIENT, SOLO]) for (const [k, v] of Object.entries(d.daemon.metrics.flat(scope))) if (/\/(loadbalancer|pool_|failure_accrual)/.test(k)) out[k] = v;
    return out;
  };

  /**
   * metrics.json as the export thread writes it, checked against the event loop's reading of
   * each client gauge that did not move while the scrape was made.
   */
  async function scrape(): Promise<Record<string, number>> {
    const written = d.daemon.admin.exporter.written;
    const before = gauges();
    const r = await send(d.adminPort, { path: '/admin/metrics.json' });
    const after = gauges();
    assert.equal(r.status, 200);
    assert.equal(d.daemon.admin.exporter.written, written + 1, 'written by the export thread');
    const m = JSON.parse(r.body) as Record<string, number>;
    for (const [k, v] of Object.entries(before)) if (after[k] === v) assert.equal(m[k], v, k);
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
    // After the backoff a probe goes to it, fails, and it is out again.
    await eventually(async () => {
      await send(d.port(), { headers: { host: 'mixed' } });
      m = await scrape();
      return m[`${CLIENT}/mixed/failure_accrual/probes`]! >= 1;
    }, 5000, 'a probe');
    assert.equal(m[`${CLIENT}/mixed/loadbalancer/available`], 1);
    assert.equal(m[`${CLIENT}/mixed/failure_accrual/removals`], 1);
    // It answers well again; after the backoff a probe finds it so.
    flakyStatus = 200;
    await eventually(async () => {
      await send(d.port(), { headers: { host: 'mixed' } });
      m = await scrape();
      return m[`${CLIENT}/mixed/failure_accrual/revivals`] === 1;
    }, 5000, 'a revival');
    assert.ok(m[`${CLIENT}/mixed/failure_accrual/probes`]! >= 2);
    assert.equal(m[`${CLIENT}/mixed/loadbalancer/available`], 2);
    // The flaky endpoint leaves the set: the sums no longer count its pool.
    disco.set('mixed', good.port);
    await eventually(async () => (await scrape())[`${CLIENT}/mixed/loadbalancer/size`] === 1, 3000, 'the set of one');
    await send(d.port(), { headers: { host: 'mixed' } });
    m = await scrape();
    assert.equal(m[`${CLIENT}/mixed/loadbalancer/available`], 1);
    assert.equal(m[`${CLIENT}/mixed/pool_size`], d.daemon.routers().get('gauges')!.router.endpoints.endpoints().find((e) => e.key === `127.0.0.1:${good.port}`)!.size);
  });

  test('a request that gives up while waiting for a connection leaves pool_waiters at once', async () => {
    const solo = d.port('solo');
    // The pool's one connection is held by the first request.
    const first = send(solo, { headers: { host: 'web3' } });
    await eventually(() => waiting.length === 1, 3000, 'the first request upstream');
    const waiters = [rawRequest(solo, 'web3'), rawRequest(solo, 'web3')];
    await eventually(async () => (await scrape())[`${SOLO}/web3/pool_waiters`] === 2, 3000, 'two waiting');
    // They give up (their callers leave); no connection frees meanwhile.
    for (const w of waiters) w.destroy();
    await eventually(async () => (await scrape())[`${SOLO}/web3/pool_waiters`] === 0, 3000, 'none waiting');
    const m = await scrape();
    assert.equal(m[`${SOLO}/web3/loadbalancer/load`], 1);
    assert.equal(m[`${SOLO}/web3/pool_size`], 1);
    assert.equal(waiting.length, 1, 'the first request is still upstream');
    waiting.shift()!.end('ok');
    assert.equal((await first).status, 200);
  });

  test('a retired endpoint that finishes a request late writes over no metric that took its memory', async () => {
    const held1 = send(d.port(), { headers: { host: 'moving' } });
    await eventually(() => waiting.length === 1, 3000, 'a request on the old endpoint');
    // The name moves: its old endpoint is retired with the request still on it.
    disco.set('moving', good.port);
    await eventually(async () => (await scrape())[`${CLIENT}/moving/pool_size`] === 0, 3000, 'the new endpoint counted');
    // A new client's metrics take the memory the old endpoint's meters had.
    assert.equal((await send(d.port(), { headers: { host: 'after' } })).status, 502);
    disco.set('after', good.port);
    await eventually(async () => (await send(d.port(), { headers: { host: 'after' } })).status === 200, 3000, 'after routed');
    const before = await scrape();
    // The old request finishes: its endpoint's load and connections fall, in memory of their own.
    waiting.shift()!.end('ok');
    assert.equal((await held1).status, 200);
    const m = await scrape();
    // Only the old request's own scopes (its client, its service, the server) count it.
    const others = (k: string) => k.startsWith('rt/gauges/') && !/\/moving\/|svc\/moving\/|\/server\/|request_latency_ms/.test(k);
    for (const [k, v] of Object.entries(before)) if (others(k)) assert.equal(m[k], v, k);
    assert.ok(Object.keys(before).filter(others).length > 50);
    assert.equal(m[`${CLIENT}/moving/loadbalancer/load`], 0);
    assert.equal(m[`${CLIENT}/after/loadbalancer/load`], 0);
    assert.equal(m[`${CLIENT}/after/pool_size`], m[`${CLIENT}/moving/pool_size`], 'one endpoint, both clients');
  });
});

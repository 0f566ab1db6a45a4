// The router's metrics under linkerd's names, read through the admin server's
// /admin/metrics.json after real requests, and the histogram on its own.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { constVar, SILENT_LOG } from '../../src/core/index.ts';
import { Addr, BoundName, Path } from '../../src/dtab/index.ts';
import { Histogram, HistogramWindow, MetricsRegistry } from '../../src/metrics/index.ts';
import type { Interpreter } from '../../src/namer/index.ts';
import { Attempts, type Dst, type Endpoint, Router } from '../../src/proxy/index.ts';
import { Disco, fsConfig, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

describe('metrics', () => {
  test('histogram quantiles within a tenth of the value', () => {
    const h = new Histogram();
    for (let i = 1; i <= 1000; i++) h.add(i);
    const s = h.snapshot();
    assert.equal(s.count, 1000);
    assert.equal(s.min, 1);
    assert.equal(s.max, 1000);
    assert.equal(s.avg, 500.5);
    for (const [q, v] of [[s.p50, 500], [s.p90, 900], [s.p99, 990]] as const) assert.ok(q >= v && q <= v * 1.1, `${q} for ${v}`);
  });

  const disco = new Disco();
  let good: Upstream;
  let bad: Upstream;
  let d: RunningDaemon;
  before(async () => {
    good = await upstream('good');
    bad = await upstream('bad', (req, res) => {
      req.resume();
      res.writeHead(503);
      res.end();
    });
    disco.set('web', good.port);
    disco.set('down', bad.port);
    d = await startDaemon(fsConfig(disco.dir, '  label: edge\n  service:\n    responseClassifier: {kind: io.l5d.http.retryableRead5XX}\n  client:\n    failureAccrual: {kind: none}'));
  });
  after(async () => {
    await d.close();
    await Promise.all([good.close(), bad.close()]);
    disco.close();
  });

  test('server, service and client scopes count requests, outcomes, statuses and retries', async () => {
    for (let i = 0; i < 5; i++) await send(d.port(), { headers: { host: 'web' } });
    for (let i = 0; i < 3; i++) await send(d.port(), { headers: { host: 'down' } });
    const r = await send(d.adminPort, { path: '/admin/metrics.json' });
    const m = JSON.parse(r.body) as Record<string, number>;
    const server = `rt/edge/server/127.0.0.1/${d.port()}`;
    assert.equal(m[`${server}/requests`], 8);
    assert.equal(m[`${server}/success`], 5);
    assert.equal(m[`${server}/failures`], 3);
    assert.equal(m[`${server}/status/200`], 5);
    assert.equal(m[`${server}/status/503`], 3);
    assert.equal(m[`${server}/status/5XX`], 3);
    assert.equal(m[`${server}/request_latency_ms.count`], 8);
    assert.equal(m['rt/edge/service/svc/web/requests'], 5);
    assert.equal(m['rt/edge/service/svc/web/success'], 5);
    assert.equal(m['rt/edge/service/svc/down/failures'], 3);
    assert.ok(m['rt/edge/service/svc/down/retries/total']! > 0);
    assert.equal(m['rt/edge/client/#/io.l5d.fs/web/requests'], 5);
    assert.equal(m['rt/edge/client/#/io.l5d.fs/web/loadbalancer/size'], 1);
    assert.equal(m['rt/edge/client/#/io.l5d.fs/web/pool_size'], 1);
    assert.equal(m['rt/edge/client/#/io.l5d.fs/web/pool_waiters'], 0);
    assert.equal(m['rt/edge/client/#/io.l5d.fs/web/failure_accrual/removals'], 0);
    assert.equal(m['rt/edge/client/#/io.l5d.fs/down/retries/requeues'], 0);
    assert.equal(typeof m['rt/edge/service/svc/web/retries/budget'], 'number');
    // Process facts in the place of linkerd's jvm/*.
    assert.ok(m['process/uptime_ms']! > 0);
    assert.ok(m['process/memory/rss_bytes']! > 10_000_000);
    assert.equal(typeof m['process/event_loop/delay_p99_ms'], 'number');
    assert.equal(typeof m['process/gc/cycles'], 'number');
  });

  test('/admin/metrics/prometheus maps scopes to names and labels as linkerd does', async () => {
    await send(d.port(), { headers: { host: 'web' } });
    const r = await send(d.adminPort, { path: '/admin/metrics/prometheus' });
    assert.equal(r.status, 200);
    const lines = r.body.trim().split('\n');
    // Every line is `name{labels} value` in the text format.
    for (const l of lines) assert.match(l, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(, [a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? -?[0-9.e+-]+$/, l);
    const value = (prefix: string): number => Number(lines.find((l) => l.startsWith(prefix))?.split(' ').at(-1));
    const server = `rt:server:requests{rt="edge", server="127.0.0.1/${d.port()}"}`;
    assert.ok(value(server) >= 9, r.body.slice(0, 500));
    assert.equal(value('rt:service:requests{rt="edge", service="svc/web"}'), 6);
    assert.equal(value('rt:client:requests{rt="edge", client="#/io.l5d.fs/web"}'), 6);
    assert.ok(lines.some((l) => l.startsWith('rt:service:request_latency_ms{rt="edge", service="svc/web", quantile="0.99"}')));
    assert.equal(value('rt:service:request_latency_ms_count{rt="edge", service="svc/web"}'), 6);
    assert.ok(lines.some((l) => l.startsWith('rt:service:retries:total{rt="edge", service="svc/down"}')));
  });

  test('metrics.json as a tree, a subtree and pretty; client_state.json; the admin index', async () => {
    await send(d.port(), { headers: { host: 'web' } });
    const tree = JSON.parse((await send(d.adminPort, { path: '/admin/metrics.json?tree=1' })).body) as Record<string, any>;
    const server = tree.rt.edge.server[`127.0.0.1/${d.port()}`];
    assert.ok(server.requests.counter >= 1);
    assert.ok(server.request_latency_ms['stat.count'] >= 1);
    assert.equal(typeof tree.rt.edge.client['#/io.l5d.fs/web'].loadbalancer.size.gauge, 'number');
    assert.ok(tree.rt.edge.service['svc/web'].requests.counter >= 1);
    const sub = JSON.parse((await send(d.adminPort, { path: '/admin/metrics.json?q=rt/edge/service' })).body) as Record<string, number>;
    assert.ok(Object.keys(sub).length > 0 && Object.keys(sub).every((k) => k.startsWith('rt/edge/service/')));
    const pretty = await send(d.adminPort, { path: '/admin/metrics.json?pretty=1&q=rt/edge/service/svc/web' });
    assert.match(pretty.body, /^\{\n  "rt\/edge\/service\/svc\/web\/pending"|^\{\n  "rt\/edge/);
    const missing = await send(d.adminPort, { path: '/admin/metrics.json?q=rt/nowhere' });
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body), { error: 'No such subtree: rt/nowhere' });
    const state = JSON.parse((await send(d.adminPort, { path: '/client_state.json' })).body) as Record<string, { state: string; addresses: string[] }>;
    assert.deepEqual(state['/#/io.l5d.fs/web'], { state: 'bound', addresses: [`127.0.0.1:${good.port}`] });
    const names = JSON.parse((await send(d.adminPort, { path: '/bound-names.json' })).body) as string[];
    assert.deepEqual(names, ['/#/io.l5d.fs/down', '/#/io.l5d.fs/web']);
    const index = await send(d.adminPort, { path: '/admin' });
    assert.match(index.body, /\/admin\/metrics\.json\n/);
    // A histogram with nothing in it gives its count alone.
    const flat = JSON.parse((await send(d.adminPort, { path: '/admin/metrics.json' })).body) as Record<string, number>;
    for (const [k, v] of Object.entries(flat)) if (k.endsWith('.count') && v === 0) assert.equal(flat[k.replace(/\.count$/, '.p50')], undefined);
  });

  test('/delegator.json answers linkerd delegation trees, and refuses what does not parse', async () => {
    const get = await send(d.adminPort, { path: `/delegator.json?namespace=edge&path=/svc/web&dtab=${encodeURIComponent('/svc=>/#/io.l5d.fs')}` });
    assert.equal(get.status, 200);
    assert.deepEqual(JSON.parse(get.body), {
      type: 'delegate',
      path: '/svc/web',
      delegate: {
        type: 'leaf',
        path: '/#/io.l5d.fs/web',
        dentry: { prefix: '/svc', dst: '/#/io.l5d.fs' },
        bound: { addr: { type: 'bound', addrs: [{ ip: '127.0.0.1', port: good.port, meta: {} }], meta: {} }, id: '/#/io.l5d.fs/web', path: '/' },
      },
    });
    const post = await send(d.adminPort, {
      method: 'POST',
      path: '/delegator.json',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ namespace: 'edge', dtab: '/svc=>/$/inet/127.1/9', path: '/svc/x' }),
    });
    assert.equal(post.status, 200);
    assert.equal(JSON.parse(post.body).delegate.type, 'leaf');
    const cases: [Parameters<typeof send>[1], number, RegExp][] = [
      [{ path: '/delegator.json?namespace=edge&path=/svc/web&dtab=/svc=>' }, 400, /^Invalid dtab: /],
      [{ path: '/delegator.json?namespace=edge&path=svc&dtab=' }, 400, /^Invalid path: /],
      [{ path: '/delegator.json?namespace=nowhere&path=/svc/web' }, 400, /^Unknown namespace: nowhere/],
      [{ path: '/delegator.json?namespace=edge' }, 400, /^Malformed delegation request/],
      [{ method: 'POST', path: '/delegator.json', body: '{}' }, 415, /JSON body/],
      [{ method: 'POST', path: '/delegator.json', headers: { 'content-type': 'application/json' }, body: '{"path": ' }, 400, /^Malformed delegation request: /],
      [{ method: 'POST', path: '/delegator.json', headers: { 'content-type': 'application/json' }, body: '[1]' }, 400, /^Malformed delegation request: expected a JSON object/],
    ];
    for (const [req, status, text] of cases) {
      const r = await send(d.adminPort, req);
      assert.equal(r.status, status, `${req!.path} ${String(req!.body)}`);
      assert.match(r.body, text);
    }
    // 10 MB is refused, not read.
    const big = await send(d.adminPort, { method: 'POST', path: '/delegator.json', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(10 * 1024 * 1024) }).catch(() => ({ status: 413, body: '' }));
    assert.equal(big.status, 413);
  });
});

describe('a service that expires', () => {
  test('takes the per-service scopes of the clients that carried it, and leaves the others', () => {
    const metrics = new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false) });
    // Two services at most: a third name expires the least recently used.
    const router = new Router<Endpoint, unknown, void>({
      label: 'x',
      interpreter: {} as Interpreter,
      bindingTimeoutMs: 1000,
      newEndpoint: () => assert.fail('no endpoint is made'),
      call: () => Promise.resolve(),
      maxClients: 2,
      metrics,
      log: SILENT_LOG,
    });
    const client = (name: string) => router.clientFor(new BoundName(constVar<Addr>(Addr.pending), Path.of('#', 'io.l5d.fs', name), Path.empty));
    const service = (name: string) => router.serviceOf({ path: Path.of('svc', name) } as Dst);
    const keys = (prefix: string): string[] => Object.keys(metrics.flat()).filter((k) => k.startsWith(prefix));
    const [a, b] = [client('a'), client('b')];
    const web = service('web');
    router.record(new Attempts(web), a, true);
    router.record(new Attempts(web), b, true);
    const api = service('api');
    router.record(new Attempts(api), a, true);
    assert.ok(keys('rt/x/client/#/io.l5d.fs/b/service/svc/web/').length > 0);
    service('other');
    assert.deepEqual(keys('rt/x/service/svc/web/'), []);
    assert.deepEqual(keys('rt/x/client/#/io.l5d.fs/a/service/svc/web/'), []);
    assert.deepEqual(keys('rt/x/client/#/io.l5d.fs/b/service/svc/web/'), []);
    assert.equal(metrics.flat()['rt/x/client/#/io.l5d.fs/a/service/svc/api/requests'], 1);
    assert.equal(metrics.flat()['rt/x/client/#/io.l5d.fs/a/requests'], 2);
    // Only the clients that made metrics for web were held by it, and are let go.
    assert.equal(web.clients.size, 0);
    assert.deepEqual([...api.clients], [a]);
    router.close();
    metrics.close();
  });
});

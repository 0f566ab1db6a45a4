// Every admin endpoint read after real traffic through real routers, in linkerd's shapes
// (spec/linkerd.md §8, §9): metrics flat, as a tree and as a subtree, client, namer and router
// state, logging, help, recent requests, the Prometheus text at a configured path, HEAD,
// shutdown, and /explain.json checked against what live requests actually get.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfigText } from '../../src/config/index.ts';
import { SILENT_LOG } from '../../src/core/index.ts';
import { Daemon } from '../../src/daemon/index.ts';
import { rawExchange, parseResponses } from '../support/raw.ts';
import { Disco, eventually, fsConfig, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

type Flat = Record<string, number>;
type Tree = Record<string, any>;

const JSON_POST = { method: 'POST', headers: { 'content-type': 'application/json' } };

describe('admin endpoints after real traffic', () => {
  const disco = new Disco();
  let web: Upstream, other: Upstream, a: Upstream, b: Upstream;
  let d: Daemon;
  let level = 'info';
  /** metrics.json right after the first 10 requests. */
  let first: Flat = {};

  const port = (label: string): number => {
    for (const s of d.servers().values()) if (s.options.label === label) return s.address.port;
    throw new Error(`no server for ${label}`);
  };
  const admin = (path: string, o: Parameters<typeof send>[1] = {}) => send(d.admin.port, { path, ...o });
  const json = async (path: string): Promise<any> => {
    const r = await admin(path);
    assert.equal(r.status, 200, `${path}: ${r.body}`);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    return JSON.parse(r.body);
  };
  const explain = async (q: unknown): Promise<any> => {
    const r = await admin('/explain.json', { ...JSON_POST, body: JSON.stringify(q) });
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body);
  };

  before(async () => {
    [web, other, a, b] = await Promise.all(['web', 'other', 'a', 'b'].map((n) => upstream(n)));
    disco.set('web', web.port);
    disco.set('a', a.port);
    disco.set('b', b.port);
    writeFileSync(join(disco.sub('prod'), 'api'), `127.0.0.1 ${web.port}\n`);
    const yaml = `admin: {ip: 127.0.0.1, port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${disco.dir}
telemetry:
- kind: io.l5d.recentRequests
  sampleRate: 1.0
  capacity: 3
- kind: io.l5d.prometheus
  path: /metrics
  prefix: linkerd_
routers:
- protocol: http
  label: edge
  dtab: |
    /svc => /#/io.l5d.fs;
    /svc/api => /#/io.l5d.fs/prod/api;
  servers: [{port: 0}]
- protocol: http
  label: split
  dtab: /svc/web => 1 * /#/io.l5d.fs/a & 1 * /#/io.l5d.fs/b
  servers: [{port: 0}]
- protocol: http
  label: clear
  dtab: /svc => /#/io.l5d.fs
  servers: [{port: 0, clearContext: true}]
- protocol: http
  label: mixed
  dtab: |
    /svc => /#/io.l5d.fs;
    /svc/split => 1 * /#/io.l5d.fs/a & 1 * /#/io.l5d.fs/b;
  servers: [{port: 0}]
`;
    d = await Daemon.start(parseConfigText(yaml, 'endpoints.yaml'), {
      log: SILENT_LOG,
      naming: { rescanIntervalMs: 200 },
      logLevel: { get: () => level, set: (l) => ((level = l), true) },
    });
  });
  after(async () => {
    await d.shutdown(0);
    await Promise.all([web, other, a, b].map((u) => u.close()));
    disco.close();
  });

  test('metrics.json counts exactly what was sent: server, service, client, bindcache, namer', async () => {
    for (let i = 0; i < 7; i++) assert.equal((await send(port('edge'), { headers: { host: 'web' } })).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await send(port('edge'), { headers: { host: 'nofile' } })).status, 502);
    const m: Flat = (first = await json('/admin/metrics.json'));
    const server = `rt/edge/server/127.0.0.1/${port('edge')}`;
    const expect: Flat = {
      [`${server}/requests`]: 10, [`${server}/success`]: 7, [`${server}/failures`]: 3, [`${server}/request_latency_ms.count`]: 10,
      [`${server}/status/200`]: 7, [`${server}/status/2XX`]: 7, [`${server}/status/502`]: 3, [`${server}/status/5XX`]: 3,
      'rt/edge/service/svc/web/requests': 7, 'rt/edge/service/svc/web/success': 7, 'rt/edge/service/svc/web/failures': 0,
      'rt/edge/service/svc/web/request_latency_ms.count': 7,
      'rt/edge/client/#/io.l5d.fs/web/requests': 7, 'rt/edge/client/#/io.l5d.fs/web/success': 7, 'rt/edge/client/#/io.l5d.fs/web/failures': 0,
      'rt/edge/client/#/io.l5d.fs/web/request_latency_ms.count': 7,
      // linkerd's per-service scope under the client.
      'rt/edge/client/#/io.l5d.fs/web/service/svc/web/requests': 7, 'rt/edge/client/#/io.l5d.fs/web/service/svc/web/success': 7,
      'rt/edge/client/#/io.l5d.fs/web/service/svc/web/request_latency_ms.count': 7,
      // Two names bound (web, nofile), one client made (nofile binds to nothing), nothing evicted.
      'rt/edge/bindcache/path/misses': 2, 'rt/edge/bindcache/path/evicts': 0, 'rt/edge/bindcache/path/size': 2,
      'rt/edge/bindcache/client/misses': 1, 'rt/edge/bindcache/client/evicts': 0, 'rt/edge/bindcache/client/size': 1,
    };
    for (const [k, v] of Object.entries(expect)) assert.equal(m[k], v, k);
    const lat = 'rt/edge/service/svc/web/request_latency_ms';
    for (const s of ['max', 'min', 'p50', 'p90', 'p95', 'p99', 'p9990', 'p9999', 'sum', 'avg']) assert.equal(typeof m[`${lat}.${s}`], 'number', s);
    assert.ok(Math.abs(m[`${lat}.avg`]! - m[`${lat}.sum`]! / 7) < 1e-9);
    assert.ok(m[`${lat}.min`]! <= m[`${lat}.p50`]! && m[`${lat}.p50`]! <= m[`${lat}.max`]!);
    assert.deepEqual(Object.keys(m).filter((k) => k.startsWith('rt/edge/client/') && !k.startsWith('rt/edge/client/#/io.l5d.fs/web/')), []);
    // The fs namer was asked for each name once: more requests to the same names do not ask again.
    const lookups = m['namer/#/io.l5d.fs/lookups']!;
    assert.ok(lookups >= 2, `lookups ${lookups}`);
    for (let i = 0; i < 3; i++) await send(port('edge'), { headers: { host: i === 0 ? 'nofile' : 'web' } });
    const again: Flat = await json('/admin/metrics.json');
    assert.equal(again['namer/#/io.l5d.fs/lookups'], lookups);
    assert.equal(again[`${server}/requests`], 13);
  });

  test('a request no route can carry counts as a request and a failure of its service scope', () => {
    // linkerd's path stack measures above the binding (StatsFilter over factoryToService), so a
    // NoBrokersAvailable is a failed request of rt/<r>/service/<name>, as the server counts it.
    const svc = 'rt/edge/service/svc/nofile';
    assert.deepEqual(
      { requests: first[`${svc}/requests`], success: first[`${svc}/success`], failures: first[`${svc}/failures`], latency: first[`${svc}/request_latency_ms.count`] },
      { requests: 3, success: 0, failures: 3, latency: 3 },
    );
  });

  test('?tree=1 nests by scope with ids as single keys and agrees with the flat form; ?q= is a subtree', async () => {
    const [tree, flat]: [Tree, Flat] = [await json('/admin/metrics.json?tree=1'), await json('/admin/metrics.json')];
    const edge = tree.rt.edge;
    assert.deepEqual(Object.keys(edge.server), [`127.0.0.1/${port('edge')}`]);
    assert.deepEqual(Object.keys(edge.client), ['#/io.l5d.fs/web']);
    assert.deepEqual(Object.keys(edge.service).sort(), ['svc/nofile', 'svc/web']);
    assert.deepEqual(edge.server[`127.0.0.1/${port('edge')}`].requests, { counter: 13 });
    assert.deepEqual(edge.client['#/io.l5d.fs/web'].requests, { counter: 9 });
    assert.equal(edge.service['svc/web'].request_latency_ms['stat.count'], 9);
    assert.equal(typeof edge.service['svc/web'].request_latency_ms['stat.p99'], 'number');
    assert.equal(typeof edge.bindcache.path.misses.gauge, 'number');
    // Each leaf of the tree is a flat metric: the same names, and counters with the same values.
    const fromTree: Flat = {};
    const walk = (node: Tree, at: string[]): void => {
      for (const [k, v] of Object.entries(node)) {
        if ('counter' in v) fromTree[[...at, k].join('/')] = v.counter;
        else if ('gauge' in v) fromTree[[...at, k].join('/')] = NaN;
        else if ('stat.count' in v) for (const s of Object.keys(v)) fromTree[`${[...at, k].join('/')}.${s.slice(5)}`] = NaN;
        else walk(v, [...at, k]);
      }
    };
    walk(tree, []);
    assert.deepEqual(Object.keys(fromTree).sort(), Object.keys(flat).sort());
    for (const [k, v] of Object.entries(fromTree)) if (!Number.isNaN(v) && k.startsWith('rt/')) assert.equal(v, flat[k], k);

    const sub: Flat = await json('/admin/metrics.json?q=rt/edge/service/svc/web');
    assert.ok(Object.keys(sub).length >= 5);
    assert.ok(Object.keys(sub).every((k) => k.startsWith('rt/edge/service/svc/web/')));
    assert.equal(sub['rt/edge/service/svc/web/requests'], 9);
    const subTree: Tree = await json('/admin/metrics.json?tree=1&q=rt/edge/client');
    assert.deepEqual(Object.keys(subTree), ['rt']);
    assert.deepEqual(Object.keys(subTree.rt), ['edge']);
    assert.deepEqual(Object.keys(subTree.rt.edge), ['client']);
    assert.deepEqual(subTree.rt.edge.client['#/io.l5d.fs/web'].success, { counter: 9 });
  });

  test('client_state.json, bound-names.json and routers.json', async () => {
    assert.deepEqual(await json('/client_state.json'), { '/#/io.l5d.fs/web': { state: 'bound', addresses: [`127.0.0.1:${web.port}`] } });
    assert.deepEqual(await json('/bound-names.json'), ['/#/io.l5d.fs/a', '/#/io.l5d.fs/b', '/#/io.l5d.fs/web']);
    const routers: any[] = await json('/routers.json');
    assert.deepEqual(routers.map((r) => r.label), ['edge', 'split', 'clear', 'mixed']);
    const edge = routers[0];
    assert.equal(edge.protocol, 'http');
    assert.equal(edge.dtab, '/svc=>/#/io.l5d.fs;/svc/api=>/#/io.l5d.fs/prod/api');
    assert.equal(edge.dstPrefix, '/svc');
    assert.equal(edge.retryBudgetPercent, 20);
    assert.deepEqual([...edge.names].sort(), ['/svc/nofile', '/svc/web']);
  });

  test('routers.json names each server as its metrics scope does (the bound port)', async () => {
    const routers: any[] = await json('/routers.json');
    const tree: Tree = await json('/admin/metrics.json?tree=1');
    for (const r of routers) assert.deepEqual(r.servers, [`127.0.0.1/${port(r.label)}`], r.label);
    assert.deepEqual(routers[0].servers, Object.keys(tree.rt.edge.server));
  });

  test('/namer_state for io.l5d.fs: rootDir, events, state, a key per subdirectory looked up; 404 naming the namers', async () => {
    assert.equal((await send(port('edge'), { headers: { host: 'api' } })).body, 'web');
    const s = await json('/namer_state/io.l5d.fs.json');
    assert.deepEqual(await json('/namer_state/%23/io.l5d.fs.json'), s);
    assert.equal(s.rootDir, disco.dir);
    assert.ok('events' in s);
    assert.deepEqual(Object.keys(s.state).sort(), ['lastUpdatedAt', 'running', 'status', 'value']);
    assert.equal(s.state.running, true);
    assert.equal(s.state.status, 'ok');
    assert.ok(!Number.isNaN(Date.parse(s.state.lastUpdatedAt)), s.state.lastUpdatedAt);
    assert.deepEqual(s.state.value, { a: 'file', b: 'file', prod: 'dir', web: 'file' });
    assert.ok('events' in s.prod);
    assert.deepEqual(s.prod.state.value, { api: 'file' });
    // A new file shows up in the state once the namer has seen it, with the event it heard.
    disco.set('late', web.port);
    let late: any;
    await eventually(async () => (late = await json('/namer_state/io.l5d.fs.json')).state.value.late === 'file' && late.events !== null, 5000, 'late in namer_state');
    assert.deepEqual(Object.keys(late.events).sort(), ['lastEventAt', 'lastEventKind', 'lastEventName']);
    assert.equal(typeof late.events.lastEventKind, 'string');
    assert.ok(!Number.isNaN(Date.parse(late.events.lastEventAt)));
    for (const p of ['/namer_state/io.l5d.k8s.json', '/namer_state/%23/io.l5d.consul.json']) {
      const r = await admin(p);
      assert.equal(r.status, 404, p);
      assert.match(r.body, /namers: #\/io\.l5d\.fs/);
    }
  });

  test('/logging and /logging.json: read, changed by POST, unknown logger and level refused', async () => {
    const page = await admin('/logging');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    for (const l of ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'OFF']) assert.ok(page.body.includes(`data-level="${l}"`), l);
    assert.match(page.body, /data-level="INFO" class="current"/);
    assert.deepEqual(await json('/logging.json'), [{ logger: 'root', level: 'INFO' }]);
    const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    const set = await admin('/logging.json', { ...form, body: 'logger=root&level=DEBUG' });
    assert.equal(set.status, 200, set.body);
    assert.deepEqual(JSON.parse(set.body), [{ logger: 'root', level: 'DEBUG' }]);
    assert.equal(level, 'debug');
    assert.deepEqual(await json('/logging.json'), [{ logger: 'root', level: 'DEBUG' }]);
    assert.match((await admin('/logging')).body, /data-level="DEBUG" class="current"/);
    for (const [body, why] of [
      ['logger=com.twitter&level=INFO', /unknown logger com\.twitter/],
      ['logger=root&level=LOUD', /unknown level LOUD/],
      ['logger=root', /required/],
    ] as const) {
      const r = await admin('/logging.json', { ...form, body });
      assert.equal(r.status, 400, body);
      assert.match(r.body, why);
    }
    assert.equal(level, 'debug');
    assert.equal((await admin('/logging.json', { ...form, body: 'logger=root&level=INFO' })).status, 200);
    assert.equal(level, 'info');
  });

  test('/help is a page linking the endpoints and the configured Prometheus path', async () => {
    const r = await admin('/help');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    for (const s of ['href="/admin/metrics.json"', 'href="/metrics"', 'href="/client_state.json"', 'No hosts are available', '/namer_state/']) assert.ok(r.body.includes(s), s);
  });

  test('/requests and /requests.json: the newest first, at most capacity, linkerd fields', async () => {
    for (let i = 1; i <= 5; i++) await send(port('edge'), { path: `/r${i}?x=${i}`, headers: { host: 'web' } });
    const j = await json('/requests.json');
    assert.equal(j.sampleRate, 1);
    assert.equal(j.capacity, 3);
    assert.deepEqual(j.requests.map((r: any) => r.uri), ['/r5?x=5', '/r4?x=4', '/r3?x=3']);
    for (const r of j.requests) {
      assert.deepEqual(
        { router: r.router, method: r.method, name: r.name, client: r.client, endpoint: r.endpoint, status: r.status, host: r.host },
        { router: 'edge', method: 'GET', name: '/svc/web', client: '/#/io.l5d.fs/web', endpoint: `127.0.0.1:${web.port}`, status: 200, host: 'web' },
      );
      assert.equal(typeof r.timestamp, 'number');
      assert.equal(typeof r.latencyMs, 'number');
    }
    assert.ok(j.requests[0].timestamp >= j.requests[2].timestamp);
    const page = await admin('/requests');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.ok(page.body.includes('/r5?x=5') && !page.body.includes('/r2?x=2'));
  });

  test('io.l5d.prometheus with path /metrics and prefix linkerd_ serves there, prefixed', async () => {
    const r = await admin('/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const lines = r.body.trimEnd().split('\n');
    assert.ok(lines.length > 50);
    for (const l of lines) assert.ok(l.startsWith('linkerd_'), l);
    const flat: Flat = await json('/admin/metrics.json');
    const line = `linkerd_rt:server:requests{rt="edge", server="127.0.0.1/${port('edge')}"} ${flat[`rt/edge/server/127.0.0.1/${port('edge')}/requests`]}`;
    assert.ok(lines.includes(line), line);
    assert.ok(lines.includes(`linkerd_rt:client:requests{rt="edge", client="#/io.l5d.fs/web"} ${flat['rt/edge/client/#/io.l5d.fs/web/requests']}`));
    const perService = `linkerd_rt:client:service:requests{rt="edge", client="#/io.l5d.fs/web", service="svc/web"} ${flat['rt/edge/client/#/io.l5d.fs/web/service/svc/web/requests']}`;
    assert.ok(lines.includes(perService), perService);
    assert.equal((await admin('/admin/metrics/prometheus')).status, 404);
    assert.ok((await admin('/admin')).body.split('\n').includes('/metrics'));
  });

  test('HEAD answers as GET without a body', async () => {
    for (const p of ['/admin/ping', '/help', '/logging', '/logging.json', '/client_state.json', '/bound-names.json', '/routers.json', '/config.json', '/admin', '/namer_state/io.l5d.fs.json', '/delegator.json?namespace=edge&path=/svc/web', '/nowhere', '/admin/metrics.json', '/metrics', '/requests.json']) {
      const [get, head] = [await admin(p), await admin(p, { method: 'HEAD' })];
      assert.equal(head.status, get.status, p);
      assert.equal(head.body, '', p);
      assert.equal(head.headers['content-type'], get.headers['content-type'], p);
      if (!/metrics|requests|namer_state/.test(p)) assert.equal(head.headers['content-length'], get.headers['content-length'], p);
    }
  });

  test('explain: a Host naming a file is identified, bound and routed as live traffic is', async () => {
    const e = await explain({ router: 'edge', url: 'http://web/a?b=1' });
    assert.deepEqual(e.identification, { kind: 'identified', path: '/svc/web' });
    assert.deepEqual(e.request, { method: 'GET', uri: '/a?b=1', host: 'web', httpVersion: '1.1' });
    assert.equal(e.clearContext, false);
    assert.equal(e.bound.length, 1);
    assert.deepEqual({ id: e.bound[0].id, addresses: e.bound[0].addresses, weight: e.bound[0].weight }, { id: '/#/io.l5d.fs/web', addresses: [`127.0.0.1:${web.port}`], weight: 1 });
    assert.equal(e.outcome.routed, true);
    assert.equal(e.delegation.delegate.bound.id, '/#/io.l5d.fs/web');
    const before = web.seen.length;
    assert.equal((await send(port('edge'), { path: '/a?b=1', headers: { host: 'web' } })).body, 'web');
    assert.equal(web.seen[before]!.headers['l5d-dst-client'], e.bound[0].id);
  });

  test('explain: an l5d-dtab header is in the effective dtab and moves the binding, as live', async () => {
    const override = `/svc/web => /$/inet/127.0.0.1/${other.port}`;
    const e = await explain({ router: 'edge', url: 'http://web/', headers: [['l5d-dtab', override]] });
    assert.equal(e.dtab.local, override);
    assert.equal(e.dtab.effective, `${e.dtab.base};/svc/web=>/$/inet/127.0.0.1/${other.port}`);
    assert.equal(e.bound[0].id, `/$/inet/127.0.0.1/${other.port}`);
    assert.deepEqual(e.bound[0].addresses, [`127.0.0.1:${other.port}`]);
    assert.equal(e.outcome.routed, true);
    const live = await send(port('edge'), { headers: { host: 'web', 'l5d-dtab': override } });
    assert.equal(live.body, 'other');
    assert.equal(other.seen.at(-1)!.headers['l5d-dst-client'], e.bound[0].id);
  });

  test('explain: a name with no file fails with the very answer a live request gets', async () => {
    const e = await explain({ router: 'edge', url: 'http://nofile/' });
    const live = await send(port('edge'), { headers: { host: 'nofile' } });
    assert.equal(e.outcome.routed, false);
    assert.equal(e.outcome.status, 502);
    assert.equal(e.outcome.status, live.status);
    // linkerd 1.7's no-route text (spec §7); earlier builds said "No hosts are available".
    assert.ok(e.outcome.message.startsWith('Unable to route request!\n\nservice name: /svc/nofile\n'), e.outcome.message);
    assert.equal(e.outcome.l5dErr, live.headers['l5d-err']);
    assert.equal(e.outcome.message, live.body.trimEnd());
    assert.deepEqual(e.bound, []);
    assert.equal(e.delegation.delegate.type, 'neg');
  });

  test('explain: a request the identifier cannot name is unidentified, 400 as live', async () => {
    const e = await explain({ router: 'edge', method: 'GET', url: '/' });
    assert.deepEqual(e.identification, { kind: 'unidentified', reason: 'Host header is absent' });
    const [live] = parseResponses((await rawExchange(port('edge'), ['GET / HTTP/1.1\r\nconnection: close\r\n\r\n'], 2000)).data);
    assert.equal(e.outcome.routed, false);
    assert.equal(e.outcome.status, live!.status);
    assert.equal(e.outcome.status, 400);
    assert.ok(live!.body.toString().endsWith(' / Host header is absent') && e.outcome.message.endsWith(' / Host header is absent'));
  });

  test('explain: on an edge router (clearContext) the l5d-dtab header is ignored, as live', async () => {
    const override = `/svc/web => /$/inet/127.0.0.1/${other.port}`;
    const e = await explain({ router: 'clear', url: 'http://web/', headers: { 'l5d-dtab': override } });
    assert.equal(e.clearContext, true);
    assert.equal(e.dtab.local, '');
    assert.equal(e.dtab.effective, '/svc=>/#/io.l5d.fs');
    assert.equal(e.bound[0].id, '/#/io.l5d.fs/web');
    assert.equal((await send(port('clear'), { headers: { host: 'web', 'l5d-dtab': override } })).body, 'web');
  });

  test('explain and live traffic agree on a weighted union: both branches, 0.5 each', async () => {
    // A union binds the branches that are bound so far (Finagle's bindUnion): wait for both.
    let e: any;
    await eventually(async () => (e = await explain({ router: 'split', url: 'http://web/' })).bound.length === 2, 3000, 'both branches bound');
    assert.deepEqual(
      e.bound.map((x: any) => [x.id, x.weight]).sort(),
      [
        ['/#/io.l5d.fs/a', 0.5],
        ['/#/io.l5d.fs/b', 0.5],
      ],
    );
    assert.equal((e.delegation.type === 'delegate' ? e.delegation.delegate : e.delegation).type, 'union');
    assert.equal(e.outcome.routed, true);
    const ids = new Set<string>(e.bound.map((x: any) => x.id));
    const bodies = new Set<string>();
    for (let i = 0; i < 40; i++) bodies.add((await send(port('split'), { headers: { host: 'web' } })).body);
    assert.deepEqual([...bodies].sort(), ['a', 'b']);
    const seen = [...a.seen, ...b.seen].map((s) => String(s.headers['l5d-dst-client']));
    assert.equal(seen.length, 40);
    assert.ok(seen.every((s) => ids.has(s)), seen.join());
  });

  test('a bound name reached directly and through a weighted union is one client (bindcache/client)', async () => {
    // linkerd's client cache is keyed by the bound name's id: /#/io.l5d.fs/a is one client
    // whether a request got there by /svc/a or by a branch of /svc/split.
    for (let i = 0; i < 10; i++) {
      assert.equal((await send(port('mixed'), { headers: { host: 'a' } })).body, 'a');
      assert.match((await send(port('mixed'), { headers: { host: 'split' } })).body, /^[ab]$/);
    }
    const m: Flat = await json('/admin/metrics.json?q=rt/mixed/bindcache');
    assert.deepEqual(
      { misses: m['rt/mixed/bindcache/client/misses'], size: m['rt/mixed/bindcache/client/size'], evicts: m['rt/mixed/bindcache/client/evicts'] },
      { misses: 2, size: 2, evicts: 0 },
    );
  });

  test('shutdown: a bad grace is 400 and GET 405; POST ?grace=1.seconds answers quitting and stops', async () => {
    const bad = await admin('/admin/shutdown?grace=soon', { method: 'POST' });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /grace/);
    assert.equal((await admin('/admin/shutdown')).status, 405);
    assert.equal((await admin('/admin/ping')).body, 'pong');
    // A second daemon, without telemeters, to be shut down.
    const plain = await startDaemon(fsConfig(disco.dir));
    const routerPort = plain.port();
    try {
      for (const p of ['/requests', '/requests.json']) {
        const r = await send(plain.adminPort, { path: p });
        assert.equal(r.status, 404, p);
        assert.match(r.body, /io\.l5d\.recentRequests/);
      }
      assert.equal((await send(plain.adminPort, { path: '/admin/metrics/prometheus' })).status, 200);
      const q = await send(plain.adminPort, { method: 'POST', path: '/admin/shutdown?grace=1.seconds' });
      assert.equal(q.status, 200);
      assert.equal(q.body, 'quitting\n');
      await eventually(() => send(plain.adminPort, { path: '/admin/ping' }).then(() => false, () => true), 3000, 'admin closed');
      await assert.rejects(send(routerPort, { headers: { host: 'web' } }));
    } finally {
      await plain.close();
    }
  });
});

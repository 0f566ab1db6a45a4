// End to end through a real daemon and real upstreams on loopback: names, per-request dtabs
// (spec/linkerd.md §6), the headers added and stripped, weighted unions, and live edits.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readTrace } from '../../src/proxy/index.ts';
import { Disco, eventually, fsConfig, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';
import { rawText } from '../support/raw.ts';

describe('routing by name', () => {
  const disco = new Disco();
  let web: Upstream;
  let v2: Upstream;
  let v3: Upstream;
  let d: RunningDaemon;
  before(async () => {
    web = await upstream('web');
    v2 = await upstream('web-v2');
    v3 = await upstream('web-v3');
    disco.set('web', web.port);
    disco.set('web-v2', v2.port);
    disco.set('web-v3', v3.port);
    d = await startDaemon(fsConfig(disco.dir));
  });
  after(async () => {
    await d.close();
    await Promise.all([web.close(), v2.close(), v3.close()]);
    disco.close();
  });

  test('a request named by Host reaches its service with the dst headers', async () => {
    const r = await send(d.port(), { path: '/a/b?c=1', headers: { host: 'web' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'web');
    assert.equal(r.headers.via, '1.1 linkerd');
    const got = web.seen.at(-1)!;
    assert.equal(got.url, '/a/b?c=1');
    assert.equal(got.headers['l5d-dst-service'], '/svc/web');
    assert.equal(got.headers['l5d-dst-client'], '/#/io.l5d.fs/web');
    assert.equal(got.headers['l5d-dst-residual'], undefined);
    assert.match(String(got.headers['l5d-reqid']), /^[0-9a-f]{16}$/);
    assert.equal(Buffer.from(String(got.headers['l5d-ctx-trace']), 'base64').length, 32);
    assert.equal(got.headers['l5d-ctx-dtab'], undefined);
    assert.equal(got.headers.via, '1.1 linkerd');
    assert.equal(got.headers.host, 'web');
  });

  test('l5d-dtab overrides the base dtab for one request and travels on as l5d-ctx-dtab', async () => {
    const r = await send(d.port(), { headers: { host: 'web', 'l5d-dtab': '/svc/web => /svc/web-v2' } });
    assert.equal(r.body, 'web-v2');
    const got = v2.seen.at(-1)!;
    assert.equal(got.headers['l5d-dtab'], undefined);
    assert.equal(got.headers['l5d-ctx-dtab'], '/svc/web=>/svc/web-v2');
    assert.equal(got.headers['l5d-dst-service'], '/svc/web');
    assert.equal(got.headers['l5d-dst-client'], '/#/io.l5d.fs/web-v2');
    // The next request, without the header, is back on the base dtab.
    assert.equal((await send(d.port(), { headers: { host: 'web' } })).body, 'web');
  });

  test('the user dtab wins over the context dtab, which wins over the base; both are forwarded', async () => {
    const r = await send(d.port(), {
      headers: { host: 'web', 'l5d-ctx-dtab': '/svc/web => /svc/web-v2', 'l5d-dtab': '/svc/web => /svc/web-v3' },
    });
    assert.equal(r.body, 'web-v3');
    assert.equal(v3.seen.at(-1)!.headers['l5d-ctx-dtab'], '/svc/web=>/svc/web-v2;/svc/web=>/svc/web-v3');
    const ctxOnly = await send(d.port(), { headers: { host: 'web', 'l5d-ctx-dtab': '/svc/web => /svc/web-v2' } });
    assert.equal(ctxOnly.body, 'web-v2');
  });

  test('several l5d-dtab headers are read in order, the last winning', async () => {
    const r = await send(d.port(), { headers: { host: 'web', 'l5d-dtab': ['/svc/web => /svc/web-v2', '/svc/web => /svc/web-v3'] } });
    assert.equal(r.body, 'web-v3');
  });

  test('an override to a name that does not exist falls back to the base dtab', async () => {
    const r = await send(d.port(), { headers: { host: 'web', 'l5d-dtab': '/svc/web => /svc/nowhere' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'web');
  });

  test('dtab-local has no effect and is forwarded untouched', async () => {
    const r = await send(d.port(), { headers: { host: 'web', 'dtab-local': '/svc/web => /svc/web-v2' } });
    assert.equal(r.body, 'web');
    assert.equal(web.seen.at(-1)!.headers['dtab-local'], '/svc/web => /svc/web-v2');
  });

  test('other l5d-ctx-* headers are forwarded; the trace continues under the caller', async () => {
    // Deadlines an hour away, in nanoseconds: the strictest goes on.
    const FAR = BigInt(Date.now() + 3_600_000) * 1_000_000n;
    const parent = Buffer.alloc(32);
    parent.write('00000000000000aa', 0, 'hex');
    parent.write('00000000000000bb', 8, 'hex');
    parent.write('00000000000000cc', 16, 'hex');
    await send(d.port(), {
      headers: { host: 'web', 'l5d-ctx-custom': 'x', 'l5d-ctx-trace': parent.toString('base64'), 'l5d-sample': '1.0', 'l5d-ctx-deadline': `100 ${FAR + 2000n}, 150 ${FAR + 1000n}` },
    });
    const got = web.seen.at(-1)!.headers;
    assert.equal(got['l5d-ctx-custom'], 'x');
    assert.equal(got['l5d-sample'], undefined);
    assert.equal(got['l5d-ctx-deadline'], `150 ${FAR + 1000n}`);
    const t = readTrace(String(got['l5d-ctx-trace']))!;
    assert.equal(t.traceId, '00000000000000cc');
    assert.equal(t.parentId, '00000000000000aa');
    assert.notEqual(t.spanId, '00000000000000aa');
    assert.equal(got['l5d-reqid'], '00000000000000cc');
  });

  test('hop-by-hop headers and those Connection names are removed both ways; inbound dst headers are replaced', async () => {
    const up = await upstream('hop', (req, res) => {
      req.resume();
      res.writeHead(200, { connection: 'x-secret', 'x-secret': '1', 'keep-alive': 'timeout=5', 'proxy-authenticate': 'Basic', 'x-kept': 'yes' });
      res.end('ok');
    });
    disco.set('hop', up.port);
    try {
      // A file made a moment ago is routable once the folder's watch has seen it.
      await eventually(async () => (await send(d.port(), { headers: { host: 'hop' } })).status === 200, 5000, 'hop routable');
      const r = await send(d.port(), {
        headers: { host: 'hop', connection: 'x-private, keep-alive', 'x-private': 'p', 'keep-alive': '5', te: 'trailers', 'proxy-authorization': 'x', 'l5d-dst-service': '/evil', 'x-end': 'e' },
      });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.headers['x-secret'], undefined);
      assert.equal(r.headers['proxy-authenticate'], undefined);
      assert.equal(r.headers['x-kept'], 'yes');
      const got = up.seen.at(-1)!.headers;
      for (const h of ['x-private', 'keep-alive', 'te', 'proxy-authorization']) assert.equal(got[h], undefined, h);
      assert.equal(got['x-end'], 'e');
      assert.equal(got['l5d-dst-service'], '/svc/hop');
    } finally {
      await up.close();
    }
  });

  test('an absolute-URI request is routed by its authority and sent on in origin form', async () => {
    const r = await send(d.port(), { path: 'http://web/x/y?z=1', headers: { host: 'ignored' } });
    assert.equal(r.body, 'web');
    const got = web.seen.at(-1)!;
    assert.equal(got.url, '/x/y?z=1');
    assert.equal(got.headers.host, 'web');
  });

  test('header bytes outside ASCII pass through unchanged', async () => {
    await send(d.port(), { headers: { host: 'web', 'x-raw': 'caf\u00e9 \u00ff' } });
    assert.equal(web.seen.at(-1)!.headers['x-raw'], 'caf\u00e9 \u00ff');
  });

  test('Via entries accumulate on the request and the response', async () => {
    const r = await send(d.port(), { headers: { host: 'web', via: '1.1 edge' } });
    assert.equal(web.seen.at(-1)!.headers.via, '1.1 edge, 1.1 linkerd');
    assert.equal(r.headers.via, '1.1 linkerd');
  });
});

describe('weighted unions and live edits', () => {
  const disco = new Disco();
  let a: Upstream;
  let b: Upstream;
  let d: RunningDaemon;
  before(async () => {
    a = await upstream('a');
    b = await upstream('b');
    disco.set('a', a.port);
    disco.set('b', b.port);
    disco.set('live', a.port);
    d = await startDaemon(fsConfig(disco.dir).replace('dtab: /svc => /#/io.l5d.fs', 'dtab: /svc => /#/io.l5d.fs; /svc/split => 3 * /#/io.l5d.fs/a & 1 * /#/io.l5d.fs/b'), 100);
  });
  after(async () => {
    await d.close();
    await Promise.all([a.close(), b.close()]);
    disco.close();
  });

  test('a weighted union splits requests in proportion to the weights', async () => {
    const counts = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 400; i++) counts[(await send(d.port(), { headers: { host: 'split' } })).body]!++;
    // 300 expected on a; four standard deviations (about 35) either way.
    assert.ok(counts.a! > 260 && counts.a! < 340, JSON.stringify(counts));
  });

  test('editing an address file moves traffic within a second, with no failed request', async () => {
    let failures = 0;
    let sawB = -1;
    const start = Date.now();
    let editAt = 0;
    const seen: string[] = [];
    for (let i = 0; Date.now() - start < 2500; i++) {
      if (i === 20) {
        disco.set('live', b.port);
        editAt = Date.now();
      }
      const r = await send(d.port(), { headers: { host: 'live' } });
      if (r.status !== 200) failures++;
      seen.push(r.body);
      if (r.body === 'b' && sawB < 0) sawB = Date.now() - editAt;
    }
    assert.equal(failures, 0);
    assert.ok(sawB >= 0 && sawB < 1000, `moved after ${sawB} ms`);
    assert.equal(seen.at(-1), 'b');
  });
});

describe('router errors (spec/linkerd.md §7)', () => {
  const disco = new Disco();
  let d: RunningDaemon;
  before(async () => {
    disco.set('broken', 1);
    d = await startDaemon(
      fsConfig(disco.dir).replace('dtab: /svc => /#/io.l5d.fs', 'dtab: /svc => /#/io.l5d.fs; /svc/slow => /#/io.l5d.fs/sub/slow') + '',
    );
  });
  after(async () => {
    await d.close();
    disco.close();
  });

  const errText = (r: { headers: Record<string, unknown> }): string => decodeURIComponent(String(r.headers['l5d-err']).replace(/\+/g, ' '));

  test('no Host: 400 Unknown destination', async () => {
    const reply = await rawText(d.port(), 'GET /x HTTP/1.0\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 400 /);
    assert.match(reply, /\r\n\r\nUnknown destination: Request\("GET \/x", from \/127\.0\.0\.1:\d+\) \/ Host header is absent$/);
    assert.match(reply, /\r\nl5d-err: Unknown\+destination%3A\+Request%28%22GET\+%2Fx%22%2C\+from\+%2F127\.0\.0\.1%3A\d+%29\+%2F\+Host\+header\+is\+absent\r\n/);
  });

  test('malformed l5d-dtab: 400 with the parser message', async () => {
    const r = await send(d.port(), { headers: { host: 'web', 'l5d-dtab': '/svc/web => ' } });
    assert.equal(r.status, 400);
    assert.ok(r.body.length > 0);
    assert.equal(r.headers['content-type'], 'text/plain');
    const ctx = await send(d.port(), { headers: { host: 'web', 'l5d-ctx-dtab': 'nonsense' } });
    assert.equal(ctx.status, 400);
  });

  test('a name that binds to nothing: 502 Unable to route request! with the dtabs', async () => {
    const r = await send(d.port(), { headers: { host: 'nothing', 'l5d-dtab': '/svc/other => /svc/else' } });
    assert.equal(r.status, 502);
    assert.equal(
      r.body,
      'Unable to route request!\n\nservice name: /svc/nothing\ndtab:\n\nbase dtab:\n  /svc => /#/io.l5d.fs\n  /svc/slow => /#/io.l5d.fs/sub/slow\noverride dtab:\n  /svc/other => /svc/else\n',
    );
    assert.equal(errText(r), r.body);
  });

  test('an address file that does not parse: 502 with the namer message', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${disco.dir}/bad`, 'not an address file\n');
    // Once the folder's watch has seen the new file:
    await eventually(async () => /line 1/.test((await send(d.port(), { headers: { host: 'bad' } })).body), 5000, 'the file read');
    const r = await send(d.port(), { headers: { host: 'bad' } });
    assert.equal(r.status, 502);
    assert.equal(r.body, 'malformed address: not an address file (line 1: port an is not a number)');
  });
});


describe('a flood of distinct names', () => {
  const disco = new Disco();
  let web: Upstream;
  let d: RunningDaemon;
  before(async () => {
    web = await upstream('web');
    disco.set('web', web.port);
    d = await startDaemon(fsConfig(disco.dir));
  });
  after(async () => {
    await d.close();
    await web.close();
    disco.close();
  });

  test('3,000 names that lead nowhere keep the binding and client caches, and the metrics, bounded', async () => {
    const router = d.daemon.routers().values().next().value!.router;
    for (let i = 0; i < 3000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => send(d.port(), { headers: { host: `nowhere-${i + j}` } })));
    }
    assert.ok(router.bindings.size <= 1000, `${router.bindings.size} bindings`);
    assert.ok(router.clients().length <= 1000);
    // One service scope per logical name, pruned with its cache entry: the label values are bounded.
    const flat = d.daemon.metrics.flat();
    const services = Object.keys(flat).filter((k) => /^rt\/[^/]+\/service\/.*\/requests$/.test(k));
    assert.ok(services.length > 0 && services.length <= 1000, `${services.length} service scopes`);
    assert.equal(flat['process/metrics/dropped'], 0);
    assert.equal((await send(d.port(), { headers: { host: 'web' } })).body, 'web');
  });
});

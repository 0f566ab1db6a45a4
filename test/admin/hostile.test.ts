// Hostile input to the admin server: malformed, oversized, mistyped and traversing requests,
// raw bytes that are not HTTP, and a WebSocket peer that misbehaves. Each is answered with a
// 4xx and a message saying what is wrong (or closed with the right code), never a crash, a 500
// or a hang, and the daemon answers /admin/ping afterwards.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { connectRaw, parseResponses, rawExchange, rawText } from '../support/raw.ts';
import { Disco, eventually, fsConfig, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

const JSON_TYPE = { 'content-type': 'application/json' };
const TEN_MB = 10 * 1024 * 1024;

describe('hostile input to the admin server', () => {
  const disco = new Disco();
  let web: Upstream;
  let d: RunningDaemon;
  const post = (path: string, body: string | Buffer, headers: Record<string, string> = JSON_TYPE) => send(d.adminPort, { method: 'POST', path, headers, body });

  before(async () => {
    web = await upstream('web');
    disco.set('web', web.port);
    d = await startDaemon(fsConfig(disco.dir, '  label: edge'));
  });
  afterEach(async () => {
    const r = await send(d.adminPort, { path: '/admin/ping' });
    assert.equal(r.body, 'pong', 'the admin server still answers');
  });
  after(async () => {
    await d.close();
    await web.close();
    disco.close();
  });

  test('JSON bodies that are not a request: 400 with what is wrong', async () => {
    const nested = (n: number, open: string, close: string, mid = ''): string => open.repeat(n) + mid + close.repeat(n);
    const bodies: [string, string | Buffer, RegExp][] = [
      ['truncated', '{"path": "/svc', /Unterminated string|JSON/],
      ['null', 'null', /expected a JSON object/],
      ['an array', '["/svc/web"]', /expected a JSON object/],
      ['a number', '42', /expected a JSON object/],
      ['a string', '"/svc/web"', /expected a JSON object/],
      ['empty', '', /JSON/],
      ['10,000 nested arrays', nested(10_000, '[', ']'), /expected a JSON object/],
      ['10,000 nested objects', nested(10_000, '{"a":', '}', '1'), /required|url/],
      ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), /JSON/],
      ['a path that is a number', '{"path": 5, "url": 5}', /required|expected/],
    ];
    for (const [path, prefix] of [
      ['/delegator.json', 'Malformed delegation request: '],
      ['/explain.json', 'Malformed explain request: '],
    ] as const) {
      for (const [what, body, why] of bodies) {
        const r = await post(path, body);
        assert.equal(r.status, 400, `${path} ${what}: ${r.body}`);
        assert.ok(r.body.startsWith(prefix), `${path} ${what}: ${r.body}`);
        assert.match(r.body, why, `${path} ${what}`);
      }
    }
  });

  test('a JSON body that is not UTF-8 is refused (400), not read with U+FFFD in place of its bytes', async () => {
    // In a string, the bytes 0xff 0xfe make the body invalid JSON text (RFC 8259: UTF-8);
    // read leniently, explain answers about a host nobody sent and the delegator about a dtab.
    const bad = (a: string, b: string): Buffer => Buffer.concat([Buffer.from(a), Buffer.from([0xff, 0xfe]), Buffer.from(b)]);
    const explain = await post('/explain.json', bad('{"url": "http://w', '/"}'));
    assert.equal(explain.status, 400, `explain.json: ${explain.status} ${explain.body.slice(0, 200)}`);
    const delegator = await post('/delegator.json', bad('{"namespace": "edge", "path": "/svc/web", "dtab": "/svc/web => /#/io.l5d.fs/web # ', '\\n"}'));
    assert.equal(delegator.status, 400, `delegator.json: ${delegator.status} ${delegator.body.slice(0, 200)}`);
  });

  /** POSTs 10 MB (declared, or chunked) on a raw socket; the status and how much RSS grew meanwhile. */
  async function bigPost(path: string, chunked: boolean): Promise<{ status: number | undefined; rssGrowth: number; sent: number }> {
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const s = await connectRaw(d.adminPort);
    const got: Buffer[] = [];
    let gone = false;
    const goneP = new Promise<void>((r) => s.once('close', () => ((gone = true), r())));
    s.on('data', (c: Buffer) => got.push(c));
    s.on('error', () => {});
    s.write(`POST ${path} HTTP/1.1\r\nhost: admin\r\ncontent-type: application/json\r\n${chunked ? 'transfer-encoding: chunked' : `content-length: ${TEN_MB}`}\r\n\r\n`);
    const block = Buffer.alloc(64 * 1024, 0x20);
    const frame = chunked ? Buffer.concat([Buffer.from(`${block.length.toString(16)}\r\n`), block, Buffer.from('\r\n')]) : block;
    let sent = 0;
    for (; sent < TEN_MB && !gone; sent += block.length) {
      if (!s.write(frame)) await Promise.race([new Promise((r) => s.once('drain', r)), goneP]);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    if (chunked && !gone) s.write('0\r\n\r\n');
    await Promise.race([goneP, new Promise((r) => setTimeout(r, 3000))]);
    s.destroy();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { status: parseResponses(Buffer.concat(got))[0]?.status, rssGrowth: peak - rss0, sent };
  }

  test('10 MB POSTs are refused with 413 without being read into memory', async () => {
    for (const path of ['/delegator.json', '/explain.json']) {
      for (const chunked of [false, true]) {
        const r = await bigPost(path, chunked);
        assert.equal(r.status, 413, `${path} chunked=${chunked}`);
        assert.ok(r.rssGrowth < 50 * 1024 * 1024, `${path}: RSS grew ${r.rssGrowth} bytes`);
        // The connection was closed on the writer well before all of it was written.
        assert.ok(r.sent < TEN_MB, `${path}: ${r.sent} bytes written before the close`);
      }
    }
  });

  test('a body that is not JSON by its content type is 415', async () => {
    for (const path of ['/delegator.json', '/explain.json']) {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', 'multipart/form-data; boundary=x']) {
        const r = await post(path, '{"path": "/svc/web", "url": "/"}', { 'content-type': type });
        assert.equal(r.status, 415, `${path} ${type}`);
        assert.match(r.body, /Content-Type: application\/json/);
      }
      const none = await post(path, '{}', {});
      assert.equal(none.status, 415, `${path} without a content type`);
      // A charset parameter is still JSON.
      assert.equal((await post(path, '{"path": "/svc/web", "url": "/"}', { 'content-type': 'Application/JSON; charset=utf-8' })).status, 200);
    }
  });

  test('/delegator.json: paths and dtabs that do not parse, and a path that does', async () => {
    const cases: [string, number, RegExp][] = [
      ['path=svc', 400, /^Invalid path: /],
      ['path=/a//b', 400, /^Invalid path: /],
      ['path=/a%20b', 400, /^Invalid path: /],
      ['path=', 400, /^Invalid path: /],
      [`path=/svc/web&dtab=${encodeURIComponent('/a=>')}`, 400, /^Invalid dtab: /],
      [`path=/svc/web&dtab=${encodeURIComponent('/a=>/b;;=>')}`, 400, /^Invalid dtab: /],
      [`path=/svc/web&dtab=${encodeURIComponent('/a => (/b')}`, 400, /^Invalid dtab: /],
      ['path=/svc/web&namespace=nowhere', 400, /^Unknown namespace: nowhere; routers: edge/],
      // `%` is one of Finagle's label characters: /%zz is a path, that nothing binds.
      ['path=/%zz&namespace=edge', 200, /"type":"neg"/],
    ];
    for (const [q, status, why] of cases) {
      const r = await send(d.adminPort, { path: `/delegator.json?${q}` });
      assert.equal(r.status, status, `${q}: ${r.body}`);
      assert.match(r.body, why, q);
    }
    for (const body of ['{"path": ["/svc"]}', '{"path": "/svc/web", "dtab": 1}', '{"path": "/svc/web", "namespace": {}}', '{"dtab": "/a=>/b"}']) {
      const r = await post('/delegator.json', body);
      assert.equal(r.status, 400, body);
      assert.match(r.body, /^Malformed delegation request: path \(a string\) is required/);
    }
    const bad = await post('/delegator.json', '{"path": "/svc/web", "dtab": "/a=>"}');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /^Invalid dtab: /);
  });

  test('?q= naming nothing is 404 {"error": "No such subtree: ..."}', async () => {
    for (const q of ['../../etc', 'rt/edge/client/#/io.l5d.fs/nofile', 'rt/edge/server/127.0.0.1/1', '\u0000', 'ʀt']) {
      for (const tree of ['', '&tree=1']) {
        const r = await send(d.adminPort, { path: `/admin/metrics.json?q=${encodeURIComponent(q)}${tree}` });
        assert.equal(r.status, 404, q);
        assert.deepEqual(JSON.parse(r.body), { error: `No such subtree: ${q}` });
      }
    }
  });

  test('paths that climb out of /files and /namer_state are 404 and leak nothing', async () => {
    const paths = [
      '/namer_state/../../etc/passwd.json',
      '/namer_state/%2e%2e/%2e%2e/etc/passwd.json',
      '/namer_state/..%2f..%2fetc%2fpasswd.json',
      '/files/../package.json',
      '/files/%2e%2e%2fpackage.json',
      '/files/%2e%2e/package.json',
      '/files/..%2f..%2fpackage.json',
      '/files/..\\package.json',
      '/admin/files/../../package.json',
      '/files/package.json',
      '/files/.env',
      '/files/dashboard.html%00.js',
    ];
    for (const p of paths) {
      const r = await send(d.adminPort, { path: p });
      assert.equal(r.status, 404, `${p}: ${r.body.slice(0, 100)}`);
      assert.ok(!/devDependencies|root:x:0|"name": "dtabd"/.test(r.body), p);
      assert.ok(r.body.length < 300, p);
    }
  });

  test('/namer_state with a percent-escape that does not decode is a 4xx, not a 500', async () => {
    for (const p of ['/namer_state/%zz.json', '/namer_state/%E0%A4%A.json', '/namer_state/%.json']) {
      const r = await send(d.adminPort, { path: p });
      assert.ok(r.status >= 400 && r.status < 500, `${p}: ${r.status} ${r.body}`);
    }
  });

  test('request targets and bytes that are not HTTP: a 4xx and a closed connection, at once', async () => {
    const texts = [
      'GET //%%% HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n\r\n',
      'GET http://[::1 HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n\r\n',
      'GET /\x00 HTTP/1.1\r\nhost: admin\r\n\r\n',
      'GET /admin/ping HTTP/1.1\r\nhost: admin\r\nno colon here\r\n\r\n',
      'GET /admin/ping HTTP/9.9\r\nhost: admin\r\n\r\n',
      `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nhost: admin\r\n\r\n`,
      'GET /admin/ping HTTP/1.1\r\nhost: admin\r\nx: a\rb\r\n\r\n',
      '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n',
      'BREW /admin/ping HTTP/1.1\r\nhost: admin\r\n\r\n',
    ];
    for (const t of texts) {
      const r = await rawExchange(d.adminPort, [t], 2000);
      const [res] = parseResponses(r.data);
      assert.ok(res !== undefined && res.status >= 400 && res.status < 500, `${JSON.stringify(t.slice(0, 30))}: ${r.data.toString('latin1').slice(0, 80)}`);
      // Closed by the server within the wait, not left open.
      assert.ok(r.closed, `${JSON.stringify(t.slice(0, 30))} left open`);
    }
    const [target] = parseResponses((await rawExchange(d.adminPort, [texts[0]!], 2000)).data);
    assert.equal(target!.body.toString(), 'Malformed request target\n');
  });

  test('/explain.json: methods, URLs and headers that are not HTTP: 400 saying which', async () => {
    const cases: [unknown, RegExp][] = [
      [{ url: '/', method: 'GE T' }, /method/],
      [{ url: '/', method: 'GET\r\n' }, /method/],
      [{ url: '/', method: '' }, /method/],
      [{ url: '/', method: 42 }, /method/],
      [{ url: 'http://web/a b' }, /url/],
      [{ url: '/a b' }, /url/],
      [{ url: '/a\u0000' }, /url/],
      [{ url: 'web/x' }, /url/],
      [{ url: '' }, /url/],
      [{ url: ['/'] }, /url/],
      [{}, /url/],
      [{ url: '/', headers: [['host', 'web\r\nx-evil: 1']] }, /line break/],
      [{ url: '/', headers: [['host', 'web\n']] }, /line break/],
      [{ url: '/', headers: { host: 'web\r' } }, /line break/],
      [{ url: '/', headers: [['bad name', 'x']] }, /not a header name/],
      [{ url: '/', headers: [['x:y', 'x']] }, /not a header name/],
      [{ url: '/', headers: [['host']] }, /pair/],
      [{ url: '/', headers: [['a', 'b', 'c']] }, /pair/],
      [{ url: '/', headers: [[1, 2]] }, /pair/],
      [{ url: '/', headers: [null] }, /pair/],
      [{ url: '/', headers: ['host: web'] }, /pair/],
      [{ url: '/', headers: { host: 5 } }, /pair/],
      [{ url: '/', headers: 'host: web' }, /headers/],
      [{ url: '/', headers: 42 }, /headers/],
      [{ url: '/', router: 'nowhere' }, /^Unknown router: nowhere; routers: edge/],
      [{ url: '/', router: 5 }, /router/],
    ];
    for (const [q, why] of cases) {
      const r = await post('/explain.json', JSON.stringify(q));
      assert.equal(r.status, 400, `${JSON.stringify(q)}: ${r.body}`);
      assert.match(r.body, why, JSON.stringify(q));
    }
    // A malformed l5d-dtab is the request's problem: explained as the 400 a live request gets.
    const e = JSON.parse((await post('/explain.json', JSON.stringify({ url: 'http://web/', headers: [['l5d-dtab', '/a=>']] }))).body);
    const live = await send(d.port(), { headers: { host: 'web', 'l5d-dtab': '/a=>' } });
    assert.equal(live.status, 400);
    assert.deepEqual([e.outcome.status, e.outcome.l5dErr], [live.status, live.headers['l5d-err']]);
  });

  /** A WebSocket to the admin server and the JSON messages it has received. */
  async function openWs(): Promise<{ ws: WebSocket; got: any[]; closed: Promise<number> }> {
    const ws = new WebSocket(`ws://127.0.0.1:${d.adminPort}/admin/ws`);
    const got: any[] = [];
    ws.on('message', (m) => got.push(JSON.parse(m.toString())));
    ws.on('error', () => {});
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('close', j);
    });
    return { ws, got, closed };
  }
  const reply = async (got: any[], type: string, from: number): Promise<any> => {
    await eventually(() => got.slice(from).some((m) => m.type === type), 2000, `a ${type} message`);
    return got.slice(from).find((m) => m.type === type);
  };

  test('WebSocket: non-JSON and non-object messages get errors and the socket stays open; bad dtab is 400', async () => {
    const { ws, got } = await openWs();
    try {
      await wsChecks(ws, got);
    } finally {
      ws.terminate();
    }
  });

  async function wsChecks(ws: WebSocket, got: any[]): Promise<void> {
    for (const [text, why] of [
      ['hello?', /^Malformed message: /],
      ['[1, 2]', /expected a JSON object/],
      ['null', /expected a JSON object/],
      ['{"type": "shout"}', /Unknown message type "shout"/],
    ] as const) {
      const from = got.length;
      ws.send(text);
      const m = await reply(got, 'error', from);
      assert.match(m.error, why, text);
      assert.equal(ws.readyState, WebSocket.OPEN, text);
    }
    let from = got.length;
    ws.send(JSON.stringify({ type: 'delegate', id: 7, namespace: 'edge', path: '/svc/web', dtab: '/a=>' }));
    const bad = await reply(got, 'delegation', from);
    assert.deepEqual({ ...bad, error: bad.error.slice(0, 13) }, { type: 'delegation', id: 7, status: 400, error: 'Invalid dtab:' });
    from = got.length;
    ws.send(JSON.stringify({ type: 'delegate', id: 8, namespace: 'edge', path: 'svc' }));
    assert.match((await reply(got, 'delegation', from)).error, /^Invalid path: /);
    from = got.length;
    ws.send(JSON.stringify({ type: 'delegate', id: 9, namespace: 'edge', path: '/svc/web', dtab: '/svc => /#/io.l5d.fs' }));
    const ok = await reply(got, 'delegation', from);
    assert.deepEqual([ok.id, ok.status, ok.body.delegate.bound.id], [9, 200, '/#/io.l5d.fs/web']);
  }

  test('WebSocket: a message over 64 KiB closes the socket with 1009', async () => {
    const { ws, closed } = await openWs();
    try {
      ws.send('x'.repeat(64 * 1024 + 1));
      assert.equal(await closed, 1009);
    } finally {
      ws.terminate();
    }
  });

  test('WebSocket: an upgrade anywhere but /admin/ws is refused with 404', async () => {
    for (const path of ['/admin/ping', '/admin/ws/x', '/', '/files/../admin/ws2']) {
      const status = await new Promise<number | string>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${d.adminPort}${path}`);
        ws.on('unexpected-response', (req, res) => {
          resolve(res.statusCode ?? 0);
          req.destroy();
        });
        ws.on('open', () => resolve('opened'));
        ws.on('error', (e) => resolve(e.message));
      });
      assert.equal(status, 404, path);
    }
    const [h2c] = parseResponses((await rawExchange(d.adminPort, ['GET /admin/ws HTTP/1.1\r\nhost: admin\r\nconnection: upgrade\r\nupgrade: h2c\r\n\r\n'], 2000)).data);
    assert.equal(h2c!.status, 404);
  });

  test('WebSocket: pages past 100 are refused; sockets dropped abruptly, and half-made upgrades, leave the feed empty', async () => {
    const pages = (): number => d.daemon.admin.feed.pages;
    await eventually(() => pages() === 0, 3000, 'the pages of earlier tests closed');
    const opened = await Promise.all(Array.from({ length: 100 }, () => openWs()));
    await eventually(() => pages() === 100, 3000, '100 pages').catch((e) => assert.fail(`${e.message}: ${pages()}`));
    const extra = await rawText(d.adminPort, 'GET /admin/ws HTTP/1.1\r\nhost: admin\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    assert.match(extra, /^HTTP\/1\.1 503 /);
    const half = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const s = await connectRaw(d.adminPort);
        s.on('error', () => {});
        s.write('GET /admin/ws HTTP/1.1\r\nhost: admin\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\n');
        return s;
      }),
    );
    for (const { ws } of opened) ws.terminate();
    for (const s of half) s.destroy();
    await eventually(() => pages() === 0, 5000, 'no page left');
    assert.equal((await send(d.adminPort, { path: '/admin/metrics.json?q=rt/edge' })).status, 200);
  });
});

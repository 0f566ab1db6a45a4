// HTTP/1.x through the proxy end to end: HTTP/1.0, Expect: 100-continue, bodies of unknown
// length, WebSocket and other upgrades, clearContext at an edge, the binding timeout,
// identifiers and the access log.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { Disco, eventually, fsConfig, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';
import { rawText } from '../support/raw.ts';


/** An upstream answering with the request body it read, and its length in `x-length`. */
function echo(name: string): Promise<Upstream> {
  return upstream(name, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'x-length': String(body.length), 'x-te': String(req.headers['transfer-encoding'] ?? '') });
      res.end(body);
    });
  });
}

describe('HTTP/1.x', () => {
  const disco = new Disco();
  let web: Upstream;
  let d: RunningDaemon;
  before(async () => {
    web = await echo('web');
    disco.set('web', web.port);
    d = await startDaemon(fsConfig(disco.dir, '  httpAccessLog: ' + join(disco.dir, 'logs', 'access.log')));
  });
  after(async () => {
    await d.close();
    await web.close();
    disco.close();
  });

  test('an HTTP/1.0 request is answered and the connection closed', async () => {
    const reply = await rawText(d.port(), 'GET /old HTTP/1.0\r\nHost: web\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(reply, /\r\nvia: 1\.0 linkerd\r\n/i);
    assert.equal(web.seen.at(-1)!.headers.via, '1.0 linkerd');
  });

  test('Expect: 100-continue waits for the upstream go-ahead, then the body flows', async () => {
    const result = await new Promise<{ continued: boolean; status: number; body: string }>((resolve, reject) => {
      let continued = false;
      const req = request({ host: '127.0.0.1', port: d.port(), method: 'POST', path: '/up', agent: false, headers: { host: 'web', expect: '100-continue', 'content-length': '5' } });
      req.on('continue', () => {
        continued = true;
        req.end('hello');
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ continued, status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.deepEqual(result, { continued: true, status: 200, body: 'hello' });
  });

  test('a chunked body of unknown length is streamed on chunked; a sized one keeps its length', async () => {
    const chunked = await new Promise<{ len: string; te: string; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: d.port(), method: 'POST', path: '/', agent: false, headers: { host: 'web' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ len: String(res.headers['x-length']), te: String(res.headers['x-te']), body }));
      });
      req.on('error', reject);
      req.write('abc');
      setTimeout(() => req.end('def'), 20);
    });
    assert.deepEqual(chunked, { len: '6', te: 'chunked', body: 'abcdef' });
    const sized = await send(d.port(), { method: 'PUT', headers: { host: 'web' }, body: 'x'.repeat(1000) });
    assert.equal(sized.headers['x-length'], '1000');
    assert.equal(sized.headers['x-te'], '');
    // A GET with a chunked body keeps it too.
    const get = await rawText(d.port(), 'GET / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    assert.match(get, /\r\nx-length: 3\r\n/);
  });

  test('HEAD and 204 answers carry no body', async () => {
    const head = await send(d.port(), { method: 'HEAD', headers: { host: 'web' } });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const up = await upstream('empty', (req, res) => {
      req.resume();
      res.writeHead(204);
      res.end();
    });
    disco.set('empty', up.port);
    try {
      await eventually(async () => (await send(d.port(), { headers: { host: 'empty' } })).status === 204, 5000, 'empty routable');
    } finally {
      await up.close();
    }
  });

  test('the access log has a line per request in linkerd format', async () => {
    await send(d.port(), { path: '/logged?x=1', headers: { host: 'web', referer: 'http://r/', 'user-agent': 'tester/1' } });
    const file = join(disco.dir, 'logs', 'access.log');
    await eventually(() => {
      try {
        return readFileSync(file, 'utf8').includes('/logged');
      } catch {
        return false;
      }
    }, 8000, 'the access log line');
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.includes('/logged'))!;
    assert.match(line, /^web 127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/logged\?x=1 HTTP\/1\.1" 200 - "http:\/\/r\/" "tester\/1"$/);
  });
});

describe('upgrades', () => {
  const disco = new Disco();
  let wss: WebSocketServer;
  let wsPort: number;
  let refuse: Upstream;
  let d: RunningDaemon;
  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    wsPort = (wss.address() as { port: number }).port;
    wss.on('connection', (sock, req) => {
      sock.send(`hello ${String(req.headers['l5d-dst-service'])}`);
      sock.on('message', (m, binary) => sock.send(m, { binary }));
    });
    refuse = await upstream('refuse');
    disco.set('chat', wsPort);
    disco.set('refuse', refuse.port);
    d = await startDaemon(fsConfig(disco.dir));
  });
  after(async () => {
    await d.close();
    wss.close();
    await refuse.close();
    disco.close();
  });

  test('a WebSocket is tunnelled both ways, text and binary, and closes cleanly', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${d.port()}/socket`, { headers: { host: 'chat' } });
    const got: (string | Buffer)[] = [];
    ws.on('message', (m: Buffer, binary: boolean) => got.push(binary ? m : m.toString()));
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    ws.send('ping');
    ws.send(Buffer.from([0, 1, 2, 255]), { binary: true });
    const big = 'z'.repeat(1 << 20);
    ws.send(big);
    await eventually(() => got.length === 4, 5000, 'four messages');
    assert.equal(got[0], 'hello /svc/chat');
    assert.equal(got[1], 'ping');
    assert.deepEqual(got[2], Buffer.from([0, 1, 2, 255]));
    assert.equal(got[3], big);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.close(1000);
    assert.equal(await closed, 1000);
  });

  test('an upgrade the upstream declines gets its answer back', async () => {
    const reply = await rawText(d.port(), 'GET / HTTP/1.1\r\nHost: refuse\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(reply, /\r\n6\r\nrefuse\r\n0\r\n\r\n$/);
  });

  test('an upgrade to a name that routes nowhere gets the 502', async () => {
    const reply = await rawText(d.port(), 'GET / HTTP/1.1\r\nHost: nowhere\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 502 /);
    assert.match(reply, /Unable to route request!/);
  });
});

describe('clearContext at an edge', () => {
  const disco = new Disco();
  let web: Upstream;
  let v2: Upstream;
  let d: RunningDaemon;
  before(async () => {
    web = await upstream('web', (req, res) => {
      req.resume();
      res.writeHead(200, { 'l5d-secret': 'internal', 'l5d-success-class': '1.0' });
      res.end('web');
    });
    v2 = await upstream('web-v2');
    disco.set('web', web.port);
    disco.set('web-v2', v2.port);
    d = await startDaemon(fsConfig(disco.dir, '', '    clearContext: true'));
  });
  after(async () => {
    await d.close();
    await Promise.all([web.close(), v2.close()]);
    disco.close();
  });

  test('inbound l5d-* headers are dropped unread; outbound ones are fresh', async () => {
    const r = await send(d.port(), {
      headers: { host: 'web', 'l5d-dtab': '/svc/web => /svc/web-v2', 'l5d-ctx-dtab': '/svc/web => /svc/web-v2', 'l5d-ctx-x': '1', 'l5d-name': 'n' },
    });
    assert.equal(r.body, 'web');
    const got = web.seen.at(-1)!.headers;
    for (const h of ['l5d-dtab', 'l5d-ctx-dtab', 'l5d-ctx-x', 'l5d-name']) assert.equal(got[h], undefined, h);
    assert.equal(got['l5d-dst-service'], '/svc/web');
    assert.ok(got['l5d-ctx-trace'] !== undefined && got['l5d-reqid'] !== undefined);
    // And the response's l5d-* headers do not leave.
    assert.equal(r.headers['l5d-secret'], undefined);
    assert.equal(r.headers['l5d-success-class'], undefined);
  });

  test('a router error keeps its status but loses l5d-err and its body', async () => {
    const r = await send(d.port(), { headers: { host: 'nothing' } });
    assert.equal(r.status, 502);
    assert.equal(r.headers['l5d-err'], undefined);
    assert.equal(r.body, '');
  });
});

describe('binding timeout and identifiers', () => {
  const disco = new Disco();
  let web: Upstream;
  let d: RunningDaemon;
  before(async () => {
    web = await upstream('web');
    disco.set('users', web.port);
    disco.set('GET', web.port);
    // A resolver that never answers for one host keeps that name binding forever.
    const resolver = (host: string): Promise<string[]> => (host === 'slow.example' ? new Promise(() => {}) : Promise.resolve(['127.0.0.1']));
    d = await startDaemon(
      `admin: {port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${disco.dir}
routers:
- protocol: http
  label: slow
  bindingTimeoutMs: 300
  dtab: /svc/slow => /$/inet/slow.example/80
  servers: [{port: 0}]
- protocol: http
  label: bypath
  dstPrefix: /p
  identifier: {kind: io.l5d.path, segments: 1, consume: true}
  dtab: /p => /#/io.l5d.fs
  servers: [{port: 0}]
- protocol: http
  label: listed
  identifier:
  - {kind: io.l5d.header, header: x-dst}
  - {kind: io.l5d.methodAndHost}
  dtab: /svc => /#/io.l5d.fs; /svc/1.1 => /#/io.l5d.fs
  servers: [{port: 0}]
`,
      200,
      { resolver },
    );
  });
  after(async () => {
    await d.close();
    await web.close();
    disco.close();
  });

  test('a name still binding after bindingTimeoutMs: 503 in linkerd words', async () => {
    const t0 = Date.now();
    const r = await send(d.port('slow'), { headers: { host: 'slow' } });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'exceeded 300.milliseconds to unspecified while dyn binding /svc/slow. Remote Info: Not Available');
    assert.ok(Date.now() - t0 >= 290);
  });

  test('io.l5d.path names by the first segment and consumes it', async () => {
    const r = await send(d.port('bypath'), { path: '/users/42?q=1', headers: { host: 'x' } });
    assert.equal(r.status, 200);
    assert.equal(web.seen.at(-1)!.url, '/42?q=1');
    assert.equal(web.seen.at(-1)!.headers['l5d-dst-service'], '/p/users');
    const short = await send(d.port('bypath'), { path: '/', headers: { host: 'x' } });
    assert.equal(short.status, 400);
  });

  test('a list of identifiers is tried in order', async () => {
    await send(d.port('listed'), { headers: { host: 'ignored', 'x-dst': '/users' } });
    assert.equal(web.seen.at(-1)!.headers['l5d-dst-service'], '/svc/users');
    await send(d.port('listed'), { headers: { host: 'GET' } });
    // methodAndHost lower-cases the host.
    assert.equal(web.seen.at(-1)!.headers['l5d-dst-service'], '/svc/1.1/GET/get');
    assert.equal(web.seen.at(-1)!.headers['l5d-dst-residual'], '/get');
  });
});

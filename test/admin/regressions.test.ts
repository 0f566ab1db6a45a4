// Defects found in review of the admin server, each kept from coming back: upgrades that
// crashed the process, a scope query that stalled the event loop, pages of other sites using
// the admin port, a service named `__proto__`, explanations that disagreed with live routing,
// and streamed bodies that kept writing into a reset connection.

import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { connectRaw, rawText } from '../support/raw.ts';
import { Disco, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

describe('admin server regressions', () => {
  const disco = new Disco();
  let web: Upstream;
  let other: Upstream;
  let d: RunningDaemon;
  const explain = async (q: unknown): Promise<Record<string, any>> => {
    const r = await send(d.adminPort, { method: 'POST', path: '/explain.json', headers: { 'content-type': 'application/json' }, body: JSON.stringify(q) });
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body);
  };
  const ping = async (): Promise<void> => assert.equal((await send(d.adminPort, { path: '/admin/ping' })).body, 'pong');

  before(async () => {
    web = await upstream('web');
    other = await upstream('other');
    disco.set('web', web.port);
    disco.set('other', other.port);
    disco.set('dead');
    d = await startDaemon(`admin: {ip: 127.0.0.1, port: 0}
namers:
- {kind: io.l5d.fs, rootDir: ${disco.dir}}
routers:
- protocol: http
  label: edge
  dtab: |
    /svc => /#/io.l5d.fs;
    /svc/split => 9 * /#/io.l5d.fs/web & 1 * /#/io.l5d.fs/dead;
  servers:
  - {port: 0}
  - {port: 0, clearContext: true}
- protocol: http
  label: root
  dstPrefix: /
  dtab: /__proto__ => /#/io.l5d.fs/web;
  servers: [{port: 0}]
`);
  });
  after(async () => {
    await d.close();
    await web.close();
    await other.close();
    disco.close();
  });

  test('an upgrade with a target that is not a URL, or reset by its client, leaves the daemon up', async () => {
    for (const target of ['//', '//[', '//a:b']) {
      const reply = await rawText(d.adminPort, `GET ${target} HTTP/1.1\r\nhost: admin\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n`);
      assert.match(reply, /^HTTP\/1\.1 400 /, target);
    }
    // Upgrades refused while their clients reset the connection.
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        const s: Socket = await connectRaw(d.adminPort);
        s.on('error', () => {});
        s.write('GET /nope HTTP/1.1\r\nhost: admin\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
        s.resetAndDestroy();
      }),
    );
    await ping();
  });

  test('a scope query of many slashes is refused at once', async () => {
    const r = await send(d.adminPort, { path: `/admin/metrics.json?q=${'/'.repeat(15_000)}x` });
    assert.equal(r.status, 404);
    assert.equal((await send(d.adminPort, { path: '/admin/metrics.json?q=rt/edge///' })).status, 200);
    // The trimming itself, on more slashes than a request head may carry: linear now (well
    // under a millisecond); quadratic (tens of seconds) with a regular expression.
    const started = performance.now();
    assert.equal(d.daemon.metrics.under(`${'/'.repeat(200_000)}x`).length, 0);
    assert.ok(performance.now() - started < 1000, `${performance.now() - started} ms`);
  });

  test('pages of other sites cannot shut the daemon down, change the log level or open the feed', async () => {
    const evil = { origin: 'https://evil.example', 'content-type': 'text/plain' };
    const shutdown = await send(d.adminPort, { method: 'POST', path: '/admin/shutdown', headers: evil });
    assert.equal(shutdown.status, 403);
    const fetchSite = await send(d.adminPort, { method: 'POST', path: '/admin/shutdown', headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(fetchSite.status, 403);
    const logging = await send(d.adminPort, { method: 'POST', path: '/logging.json', headers: { ...evil, 'content-type': 'application/x-www-form-urlencoded' }, body: 'logger=root&level=TRACE' });
    assert.equal(logging.status, 403);
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${d.adminPort}/admin/ws`, { origin: 'https://evil.example' });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    assert.equal(refused, 403);
    // The same page on the admin port itself is let in.
    const own = new WebSocket(`ws://127.0.0.1:${d.adminPort}/admin/ws`, { origin: `http://127.0.0.1:${d.adminPort}` });
    await new Promise<void>((resolve, reject) => {
      own.on('open', () => resolve());
      own.on('error', reject);
    });
    own.close();
    await ping();
  });

  test('a service named __proto__ is a metric like any other, and pollutes nothing', async () => {
    const r = await send(d.port('root'), { headers: { host: '__proto__' } });
    assert.equal(r.body, 'web');
    const tree = JSON.parse((await send(d.adminPort, { path: '/admin/metrics.json?tree=1' })).body);
    assert.equal(tree.rt.root.service.__proto__.requests.counter, 1);
    assert.equal(({} as Record<string, unknown>)['requests'], undefined);
    // Other services' subtrees are whole.
    await send(d.port('edge'), { headers: { host: 'web' } });
    const again = JSON.parse((await send(d.adminPort, { path: '/admin/metrics.json?tree=1' })).body);
    assert.equal(typeof again.rt.edge.service['svc/web'].retries.total.counter, 'number');
    const pretty = JSON.parse((await send(d.adminPort, { path: '/admin/metrics.json?tree=1&pretty=1' })).body);
    assert.equal(pretty.rt.root.service.__proto__.requests.counter, 1);
  });

  test("explain reads the request as the server does: the URL's authority is the Host, hop-by-hop headers are gone", async () => {
    const e = await explain({ router: 'edge', url: 'http://web/x', headers: [['host', 'nosuch']] });
    assert.equal(e['identification'].path, '/svc/web');
    const live = await rawText(d.port('edge'), 'GET http://web/x HTTP/1.1\r\nhost: nosuch\r\nconnection: close\r\n\r\n');
    assert.match(live, /^HTTP\/1\.1 200 /);
    // `Connection: host` makes Host hop-by-hop: the identifier never sees it, live or explained.
    const hop = await explain({ router: 'edge', url: '/x', headers: [['host', 'web'], ['connection', 'host']] });
    assert.equal(hop['identification'].kind, 'unidentified');
    const liveHop = await rawText(d.port('edge'), 'GET /x HTTP/1.1\r\nhost: web\r\nconnection: host, close\r\n\r\n');
    assert.match(liveHop, /^HTTP\/1\.1 400 /);
    assert.equal(hop['outcome'].status, 400);
  });

  test('explain applies the clearContext of the server named, and says how a union with a failing branch fares', async () => {
    const servers = [...d.daemon.servers().values()].filter((s) => s.options.label === 'edge').map((s) => `127.0.0.1/${s.address.port}`);
    const override = [['host', 'web'], ['l5d-dtab', `/svc/web => /$/inet/127.0.0.1/${other.port}`]];
    const inner = await explain({ router: 'edge', server: servers[0], url: '/x', headers: override });
    assert.equal(inner['bound'][0].id, `/$/inet/127.0.0.1/${other.port}`);
    const edge = await explain({ router: 'edge', server: servers[1], url: '/x', headers: override });
    assert.equal(edge['clearContext'], true);
    assert.equal(edge['bound'][0].id, '/#/io.l5d.fs/web');
    const unknown = await send(d.adminPort, { method: 'POST', path: '/explain.json', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ router: 'edge', server: '1.2.3.4/5', url: '/' }) });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body, /server: "1\.2\.3\.4\/5" is not a server of edge/);

    const split = await explain({ router: 'edge', url: '/', headers: [['host', 'split']] });
    assert.equal(split['outcome'].routed, true);
    assert.match(split['outcome'].message, /10% of requests go down a branch that fails/);
    const byId = Object.fromEntries(split['bound'].map((b: Record<string, any>) => [b.id, b]));
    assert.equal(byId['/#/io.l5d.fs/web'].outcome.routed, true);
    assert.equal(byId['/#/io.l5d.fs/dead'].outcome.routed, false);
    assert.equal(byId['/#/io.l5d.fs/dead'].outcome.status, 502);
    const bad = await send(d.adminPort, { method: 'POST', path: '/explain.json', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ router: 'edge', url: '/', httpVersion: '2' }) });
    assert.equal(bad.status, 400);
  });
});

describe('streamed bodies', () => {
  test('a body that is ready goes out a few chunks per turn of the event loop, not in one go', async () => {
    const { createServer } = await import('node:http');
    const { sendStream } = await import('../../src/admin/respond.ts');
    // Turns of the event loop counted by an immediate that schedules itself while the body goes out.
    let turn = 0;
    let sending = true;
    const count = (): void => {
      turn++;
      if (sending) setImmediate(count);
    };
    const writesPerTurn = new Map<number, number>();
    let finished!: () => void;
    const done = new Promise<void>((res) => (finished = res));
    const server = createServer((_req, res) => {
      const write = res.write.bind(res) as (...a: unknown[]) => boolean;
      res.write = ((...a: unknown[]) => {
        writesPerTurn.set(turn, (writesPerTurn.get(turn) ?? 0) + 1);
        return write(...a);
      }) as typeof res.write;
      setImmediate(count);
      void sendStream(
        res,
        200,
        'text/plain',
        async (out) => {
          // Forty chunks at once: a scrape whose text the thread finished before it was sent.
          for (let i = 0; i < 40; i++) out(Buffer.alloc(64 * 1024, 97));
        },
        () => {},
      ).then(finished);
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as { port: number }).port;
    try {
      const body = await new Promise<number>((resolve, reject) => {
        const s = new Socket();
        let got = 0;
        s.on('data', (d: Buffer) => (got += d.length));
        s.on('end', () => resolve(got));
        s.on('error', reject);
        s.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'));
      });
      await done;
      sending = false;
      assert.ok(body > 40 * 64 * 1024, `body of ${body} bytes`);
      const writes = [...writesPerTurn.values()];
      assert.equal(writes.reduce((a, b) => a + b, 0), 40);
      // Two per turn, in the poll phase and again in the check phase at most.
      assert.ok(Math.max(...writes) <= 4, `writes per turn: ${JSON.stringify(Object.fromEntries(writesPerTurn))}`);
      // Forty chunks two at a time: about twenty turns (four at a time would be ten).
      assert.ok(writesPerTurn.size >= 15, `turns with writes: ${writesPerTurn.size}`);
    } finally {
      sending = false;
      server.closeAllConnections();
      server.close();
    }
  });

  test('a client that resets mid-body: every chunk made is given back once, none written after', async () => {
    const { createServer } = await import('node:http');
    const { sendStream } = await import('../../src/admin/respond.ts');
    const given = new Map<Buffer, number>();
    let made = 0;
    let finished!: () => void;
    const done = new Promise<void>((res) => (finished = res));
    const server = createServer((_req, res) => {
      void sendStream(
        res,
        200,
        'text/plain',
        async (out) => {
          for (let i = 0; i < 400; i++) {
            const c = Buffer.alloc(64 * 1024, 97);
            given.set(c, 0);
            made++;
            out(c);
            if (i % 8 === 0) await new Promise((r) => setImmediate(r));
          }
        },
        (c) => given.set(c, (given.get(c) ?? 0) + 1),
      ).then(finished);
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as { port: number }).port;
    try {
      const s = new Socket();
      s.on('error', () => {});
      let got = 0;
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got > 300_000) s.resetAndDestroy();
      });
      s.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
      await done;
      // Writes under way when the reset came report it on a later turn.
      for (let i = 0; i < 50 && [...given.values()].some((n) => n === 0); i++) await new Promise((r) => setTimeout(r, 10));
      const counts = [...given.values()];
      assert.equal(made, 400);
      assert.equal(counts.filter((n) => n === 0).length, 0, 'chunks never given back');
      assert.equal(counts.filter((n) => n > 1).length, 0, 'chunks given back twice');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

// The proxy against hostile peers, end to end on loopback: heads that are slow, oversized or
// framed twice (request smuggling), garbage instead of HTTP, upstreams that refuse
// connections, the concurrency limit and proxy loops.

import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Disco, eventually, fsConfig, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';
import { deadPort, drained, l5dErr, noise, parseResponses, type RawUpstream, rawExchange, rawUpstream } from '../support/raw.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('slow and oversized request heads', () => {
  const disco = new Disco();
  let web: Upstream;
  let d: RunningDaemon;
  before(async () => {
    web = await upstream('web');
    disco.set('web', web.port);
    d = await startDaemon(fsConfig(disco.dir, '  maxHeadersKB: 8', '    headersTimeoutMs: 500'));
  });
  after(async () => {
    await d.close();
    await web.close();
    disco.close();
  });

  test('a head trickled one byte every 100 ms is cut off with 408, while other connections are served', async () => {
    const parts: (string | number)[] = ['GET / HTTP/1.1\r\nHost: web\r\nX-Slow: '];
    for (let i = 0; i < 50; i++) parts.push(100, 'a');
    const slow = rawExchange(d.port(), parts, 1000);
    await sleep(200);
    const started = Date.now();
    const r = await send(d.port(), { headers: { host: 'web' } });
    assert.equal(r.status, 200);
    assert.ok(Date.now() - started < 1000, 'served while the slow head is pending');
    const s = await slow;
    assert.equal(s.closed, true);
    assert.ok(s.ms < 2000, `closed after ${s.ms} ms`);
    assert.ok(s.written < 20, `${s.written} parts written before the close`);
    const replies = parseResponses(s.data);
    assert.ok(replies.length <= 1);
    if (replies.length === 1) assert.equal(replies[0]!.status, 408);
    assert.equal(web.seen.filter((x) => x.headers['x-slow'] !== undefined).length, 0);
  });

  test('a connection that sends nothing is closed after the head timeout', async () => {
    const s = await rawExchange(d.port(), [], 3000);
    assert.equal(s.closed, true);
    assert.ok(s.ms < 2000, `closed after ${s.ms} ms`);
  });

  test('a head over maxHeadersKB gets 431; one just under it is routed', async () => {
    const head = (size: number): string => {
      const start = 'GET /big HTTP/1.1\r\nHost: web\r\nX-Pad: ';
      return `${start}${'p'.repeat(size - start.length - 4)}\r\n\r\n`;
    };
    const before = web.seen.length;
    const over = await rawExchange(d.port(), [head(16 * KiB)]);
    assert.deepEqual(
      parseResponses(over.data).map((x) => x.status),
      [431],
    );
    assert.equal(over.closed, true);
    const justOver = await rawExchange(d.port(), [head(8 * KiB + 64)]);
    assert.deepEqual(
      parseResponses(justOver.data).map((x) => x.status),
      [431],
    );
    assert.equal(web.seen.length, before);
    const under = await send(d.port(), { path: '/big', headers: { host: 'web', 'x-pad': 'p'.repeat(8 * KiB - 128) } });
    assert.equal(under.status, 200);
    assert.equal(web.seen.at(-1)!.headers['x-pad'], 'p'.repeat(8 * KiB - 128));
  });
});

describe('request smuggling', () => {
  const disco = new Disco();
  let web: Upstream;
  let other: Upstream;
  let lying: RawUpstream;
  let switching: RawUpstream;
  let d: RunningDaemon;
  /** Each request the upstream saw, and whether its body ended or was cut. */
  const got: { url: string; ended: boolean; closed: boolean }[] = [];
  /** Bytes the switching upstream read after its 101 on the same connection. */
  const afterSwitch: string[] = [];
  before(async () => {
    web = await upstream('web', (req, res) => {
      const g = { url: req.url ?? '', ended: false, closed: false };
      got.push(g);
      req.on('error', () => {});
      req.on('close', () => (g.closed = true));
      req.on('end', () => {
        g.ended = true;
        res.end('web');
      });
      req.resume();
    });
    other = await upstream('other');
    // Frames its answer two ways: 4 bytes by Content-Length, 10 by its chunks.
    lying = await rawUpstream((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n'));
    // Switches protocols whether asked to or not, then talks raw.
    switching = await rawUpstream((socket) => {
      socket.on('data', (c: Buffer) => afterSwitch.push(c.toString('latin1')));
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nRAW BYTES');
    });
    disco.set('web', web.port);
    disco.set('other', other.port);
    disco.set('lying', lying.port);
    disco.set('switching', switching.port);
    d = await startDaemon(fsConfig(disco.dir));
    // A pooled connection to the upstream, so that a head that parses goes out at once.
    assert.equal((await send(d.port(), { headers: { host: 'web' } })).status, 200);
  });
  after(async () => {
    await d.close();
    await web.close();
    await other.close();
    await lying.close();
    await switching.close();
    disco.close();
  });

  const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: web\r\n\r\n';
  const post = 'POST / HTTP/1.1\r\nHost: web\r\n';
  // Where the request goes wrong: in its head (nothing may go upstream) or in its chunked
  // body (the head may have gone, but the body must be cut short there, never ended).
  const cases: [string, string, 'head' | 'body'][] = [
    ['Content-Length and Transfer-Encoding: chunked', `${post}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`, 'head'],
    ['Transfer-Encoding: chunked and Content-Length', `${post}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${smuggled}`, 'head'],
    ['two equal Content-Length headers', `${post}Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd${smuggled}`, 'head'],
    ['two different Content-Length headers', `${post}Content-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`, 'head'],
    ['Content-Length: 4, 4', `${post}Content-Length: 4, 4\r\n\r\nabcd${smuggled}`, 'head'],
    ['Content-Length: +4', `${post}Content-Length: +4\r\n\r\nabcd${smuggled}`, 'head'],
    ['a form feed before the Content-Length digits', `${post}Content-Length: \x0c4\r\n\r\nabcd${smuggled}`, 'head'],
    ['Transfer-Encoding: chunked, identity', `${post}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`, 'head'],
    ['Transfer-Encoding twice', `${post}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${smuggled}`, 'head'],
    ['a space before the colon of Transfer-Encoding', `${post}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n${smuggled}`, 'head'],
    ['a space before the colon, with Content-Length', `${post}Content-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${smuggled}`, 'head'],
    ['Transfer-Encoding: xchunked', `${post}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggled}`, 'head'],
    ['Transfer-Encoding: xchunked with Content-Length', `${post}Content-Length: 5\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggled}`, 'head'],
    ['Transfer-Encoding: chunked and a vertical tab', `${post}Transfer-Encoding: chunked\x0b\r\n\r\n0\r\n\r\n${smuggled}`, 'head'],
    ['Transfer-Encoding: a no-break space and chunked', `${post}Transfer-Encoding:\xa0chunked\r\n\r\n0\r\n\r\n${smuggled}`, 'head'],
    ['Transfer-Encoding folded onto a second line', `${post}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${smuggled}`, 'head'],
    ['header lines ended by bare LFs', `POST / HTTP/1.1\nHost: web\nContent-Length: 4\n\nabcd${smuggled}`, 'head'],
    ['chunk data not followed by CRLF', `${post}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n${smuggled}`, 'body'],
    ['a chunk size line ended by a bare LF', `${post}Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n${smuggled}`, 'body'],
    ['a chunk extension ended by a bare LF', `${post}Transfer-Encoding: chunked\r\n\r\n0;a\nb\r\n\r\n${smuggled}`, 'body'],
    ['a chunk size past 64 bits', `${post}Transfer-Encoding: chunked\r\n\r\n10000000000000003\r\nabc\r\n0\r\n\r\n${smuggled}`, 'body'],
  ];
  for (const [what, bytes, where] of cases) {
    test(`${what}: 400 and the connection closed, no smuggled request upstream`, async () => {
      const before = got.length;
      const r = await rawExchange(d.port(), [bytes], 1000);
      await sleep(50);
      const seen = got.slice(before);
      assert.ok(!seen.some((x) => x.url === '/smuggled'), 'the smuggled request reached the upstream');
      if (where === 'head') {
        assert.deepEqual(
          seen.map((x) => x.url),
          [],
        );
      } else {
        assert.ok(seen.length <= 1 && seen.every((x) => x.url === '/'), JSON.stringify(seen));
        await eventually(() => seen.every((x) => x.closed), 2000, 'the upstream request to close');
        assert.ok(
          seen.every((x) => !x.ended),
          'the upstream must see the body cut short',
        );
      }
      const replies = parseResponses(r.data);
      assert.ok(replies.length <= 1, `${replies.length} responses on one connection`);
      if (replies.length === 1) assert.equal(replies[0]!.status, 400);
      assert.equal(r.closed, true, 'the connection is closed');
    });
  }

  test('two Host headers: 400, and no service sees the request', async () => {
    const before = got.length;
    const r = await rawExchange(d.port(), ['GET /hosts HTTP/1.1\r\nHost: web\r\nHost: other\r\n\r\n'], 500);
    assert.deepEqual(
      parseResponses(r.data).map((x) => x.status),
      [400],
    );
    assert.equal(got.length, before);
    assert.equal(other.seen.length, 0);
  });

  test('an upstream answer framed two ways is refused with 502 and the connection stays in step', async () => {
    const r = await rawExchange(d.port(), ['GET /a HTTP/1.1\r\nHost: lying\r\n\r\n', 'GET /b HTTP/1.1\r\nHost: web\r\n\r\n'], 500);
    const replies = parseResponses(r.data);
    assert.deepEqual(
      replies.map((x) => x.status),
      [502, 200],
    );
    assert.equal(replies[1]!.body.toString(), 'web');
  });

  test('an upstream switching protocols unasked: 502, never a tunnel', async () => {
    const r = await rawExchange(d.port(), ['GET / HTTP/1.1\r\nHost: switching\r\n\r\n', 100, 'GET /next HTTP/1.1\r\nHost: switching\r\nl5d-dtab: /svc/x=>/$/nowhere\r\n\r\n'], 500);
    assert.ok(!r.data.toString('latin1').includes('RAW BYTES'), 'the upstream spoke raw to the client');
    const replies = parseResponses(r.data);
    assert.ok(replies.length >= 1);
    assert.equal(replies[0]!.status, 502);
    // Whatever the client sent next went through the router, never down the switched connection.
    assert.deepEqual(afterSwitch, []);
  });
});

describe('garbage instead of HTTP', () => {
  const disco = new Disco();
  let web: Upstream;
  let drip: Upstream;
  let d: RunningDaemon;
  before(async () => {
    web = await upstream('web');
    // Ten chunks of 1 KiB, 20 ms apart.
    drip = await upstream('drip', (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let n = 0;
      const timer = setInterval(() => {
        res.write(Buffer.alloc(KiB, 0x64));
        if (++n === 10) {
          clearInterval(timer);
          res.end();
        }
      }, 20);
      res.once('close', () => clearInterval(timer));
    });
    disco.set('web', web.port);
    disco.set('drip', drip.port);
    d = await startDaemon(fsConfig(disco.dir));
  });
  after(async () => {
    await d.close();
    await web.close();
    await drip.close();
    disco.close();
  });

  const clientHello = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03]), noise(32, 7), Buffer.from([0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00]), noise(150, 11)]);
  const cases: [string, Buffer | string, readonly number[]][] = [
    ['random bytes', noise(4 * KiB), [400]],
    ['a TLS ClientHello', clientHello, [400]],
    // 505 (HTTP Version Not Supported) says it best, 400 will do.
    ['the HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', [400, 505]],
    ['NUL bytes', Buffer.alloc(KiB), [400]],
    ['a response instead of a request', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', [400]],
    // The request line counts against the head limit: 431 is as right as 400 or 414.
    ['a 1 MB request line', `GET /${'a'.repeat(MiB)} HTTP/1.1\r\nHost: web\r\n\r\n`, [400, 414, 431]],
  ];
  for (const [what, bytes, statuses] of cases) {
    test(`${what}: refused at once, and the daemon keeps serving`, async () => {
      const before = web.seen.length;
      // Well before the head timeout (10 s): what cannot be a request head is refused as soon as it shows.
      const r = await rawExchange(d.port(), [bytes], 2000);
      assert.equal(r.closed, true, 'the connection is closed');
      const replies = parseResponses(r.data);
      assert.ok(replies.length <= 1, `${replies.length} responses`);
      if (replies.length === 1) assert.ok(statuses.includes(replies[0]!.status), `status ${replies[0]!.status}`);
      assert.equal(web.seen.length, before);
      const ok = await send(d.port(), { headers: { host: 'web' } });
      assert.equal(ok.status, 200);
      assert.equal(ok.body, 'web');
      await drained(d);
    });
  }

  test('garbage pipelined behind a streamed response is answered after it, never inside it', async () => {
    const r = await rawExchange(d.port(), ['GET /drip HTTP/1.1\r\nHost: drip\r\n\r\n', 60, '\x00\x01garbage\r\n\r\n'], 2000);
    const replies = parseResponses(r.data);
    assert.deepEqual(
      replies.map((x) => [x.status, x.complete]),
      [
        [200, true],
        [400, true],
      ],
    );
    assert.equal(replies[0]!.body.length, 10 * KiB);
    assert.equal(r.closed, true);
    await drained(d);
  });
});

describe('an upstream refusing connections', () => {
  const disco = new Disco();
  let d: RunningDaemon;
  let port: number;
  before(async () => {
    port = await deadPort();
    disco.set('gone', port);
    d = await startDaemon(fsConfig(disco.dir));
  });
  after(async () => {
    await d.close();
    disco.close();
  });

  test('502 naming the address, retryable', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await send(d.port(), { path: '/x', headers: { host: 'gone' } });
      assert.equal(r.status, 502);
      const err = l5dErr(r.headers);
      assert.ok(err.startsWith(`Unable to establish connection to 127.0.0.1:${port}.`), err);
      assert.ok(err.includes('service name: /svc/gone'), err);
      assert.equal(r.headers['l5d-retryable'], 'true');
      assert.equal(r.body, err);
    }
    await drained(d);
  });
});

describe('maxConcurrentRequests', () => {
  const disco = new Disco();
  let slow: Upstream;
  let d: RunningDaemon;
  const held: ServerResponse[] = [];
  let holding = true;
  before(async () => {
    slow = await upstream('slow', (req, res) => {
      req.resume();
      if (holding) held.push(res);
      else res.end('slow');
    });
    disco.set('slow', slow.port);
    d = await startDaemon(fsConfig(disco.dir, '', '    maxConcurrentRequests: 2'));
  });
  after(async () => {
    for (const res of held) res.destroy();
    await d.close();
    await slow.close();
    disco.close();
  });

  test('past the limit a request gets 503 at once; once the others finish, requests pass again', async () => {
    const first = send(d.port(), { headers: { host: 'slow' } });
    const second = send(d.port(), { headers: { host: 'slow' } });
    await eventually(() => held.length === 2, 2000, 'two requests held upstream');
    const started = Date.now();
    const third = await send(d.port(), { headers: { host: 'slow' } });
    assert.equal(third.status, 503);
    assert.ok(Date.now() - started < 1000, `answered after ${Date.now() - started} ms`);
    assert.equal(l5dErr(third.headers), 'Rejected: more than 2 concurrent requests');
    assert.equal(slow.seen.length, 2);
    holding = false;
    for (const res of held) res.end('slow');
    assert.deepEqual(
      (await Promise.all([first, second])).map((r) => [r.status, r.body]),
      [
        [200, 'slow'],
        [200, 'slow'],
      ],
    );
    const fourth = await send(d.port(), { headers: { host: 'slow' } });
    assert.equal(fourth.status, 200);
    assert.equal(fourth.body, 'slow');
  });
});

describe('proxy loops', () => {
  const disco = new Disco();
  let web: Upstream;
  let d: RunningDaemon;
  let shallow: RunningDaemon;
  const via = (n: number): string => Array.from({ length: n }, () => '1.1 a').join(', ');
  before(async () => {
    web = await upstream('web');
    disco.set('web', web.port);
    d = await startDaemon(fsConfig(disco.dir));
    shallow = await startDaemon(fsConfig(disco.dir, '', '    maxCallDepth: 2'));
  });
  after(async () => {
    await d.close();
    await shallow.close();
    await web.close();
    disco.close();
  });

  test('1001 Via entries are refused with 400; 1000 pass', async () => {
    const text = 'Maximum number of calls (1000) has been exceeded. Please check for proxy loops.';
    const before = web.seen.length;
    const r = await send(d.port(), { headers: { host: 'web', via: via(1001) } });
    assert.equal(r.status, 400);
    assert.equal(r.body, text);
    assert.equal(l5dErr(r.headers), text);
    assert.equal(web.seen.length, before);
    const ok = await send(d.port(), { headers: { host: 'web', via: via(1000) } });
    assert.equal(ok.status, 200);
    assert.equal(web.seen.at(-1)!.headers.via, `${via(1000)}, 1.1 linkerd`);
  });

  test('maxCallDepth: 2 refuses three entries, counted across Via headers, and passes one', async () => {
    const text = 'Maximum number of calls (2) has been exceeded. Please check for proxy loops.';
    const three = await send(shallow.port(), { headers: { host: 'web', via: '1.1 a, 1.1 b, 1.1 c' } });
    assert.equal(three.status, 400);
    assert.equal(three.body, text);
    const split = await send(shallow.port(), { headers: { host: 'web', via: ['1.1 a, 1.1 b', '1.1 c'] } });
    assert.equal(split.status, 400);
    assert.equal(split.body, text);
    const one = await send(shallow.port(), { headers: { host: 'web', via: '1.1 a' } });
    assert.equal(one.status, 200);
    assert.equal(web.seen.at(-1)!.headers.via, '1.1 a, 1.1 linkerd');
  });
});

// The proxy against hostile and failing peers, end to end on loopback: bodies far larger than
// memory streamed both ways, peers that go away mid-exchange, heads that are slow, oversized
// or framed twice (request smuggling), garbage instead of HTTP, upstreams that refuse
// connections, the concurrency limit and proxy loops. The daemon runs in this process, so
// `process.memoryUsage` sees what it holds.

import assert from 'node:assert/strict';
import { type IncomingMessage, request, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Disco, eventually, fsConfig, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';
import { connectRaw, deadPort, HALF_CLOSE, parseResponses, type RawUpstream, rawExchange, rawUpstream } from '../support/raw.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A body of `total` bytes made on the fly, one reused chunk at a time; `pulled` counts what was read. */
class Generated extends Readable {
  pulled = 0;
  readonly #total: number;
  readonly #chunk: Buffer;

  constructor(total: number, chunkSize = 64 * KiB) {
    super({ highWaterMark: chunkSize });
    this.#total = total;
    this.#chunk = Buffer.alloc(chunkSize, 0x61);
  }

  override _read(): void {
    const n = Math.min(this.#total - this.pulled, this.#chunk.length);
    if (n <= 0) {
      this.push(null);
      return;
    }
    this.pulled += n;
    this.push(n === this.#chunk.length ? this.#chunk : this.#chunk.subarray(0, n));
  }
}

/** The largest growth of the resident set over its value now, sampled every 100 ms until `stop`. */
function watchRss(): { stop(): number } {
  const base = process.memoryUsage.rss();
  let max = 0;
  const sample = (): void => {
    max = Math.max(max, process.memoryUsage.rss() - base);
  };
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return max;
    },
  };
}

/** Waits until `count()` has not moved for `quietMs` (a stream has stalled), at most `ms`. */
async function settled(count: () => number, quietMs = 400, ms = 4000): Promise<number> {
  const end = Date.now() + ms;
  let last = count();
  let since = Date.now();
  while (Date.now() < end) {
    await sleep(50);
    const now = count();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return now;
  }
  throw new Error(`still moving after ${ms} ms (at ${last})`);
}

interface Outcome {
  /** 0 when no response head arrived. */
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly bytes: number;
  /** The body ended where its framing said it would. */
  readonly complete: boolean;
  readonly error: string | undefined;
}

/** One GET that reports how it ended rather than failing: a truncated body is an outcome too. */
function outcome(port: number, host: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let status = 0;
    let headers: IncomingMessage['headers'] = {};
    let bytes = 0;
    let ended = false;
    let error: string | undefined;
    const req = request({ host: '127.0.0.1', port, agent: false, path: '/', headers: { host } }, (res) => {
      status = res.statusCode ?? 0;
      headers = res.headers;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => (ended = true));
      res.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
      res.on('close', () => resolve({ status, headers, bytes, complete: ended && res.complete, error }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
      if (status === 0) resolve({ status, headers, bytes, complete: false, error });
    });
    req.end();
  });
}

/** `l5d-err` decoded as linkerd encodes it (Java's URLEncoder). */
function l5dErr(headers: Record<string, string | string[] | undefined>): string {
  const v = headers['l5d-err'];
  assert.equal(typeof v, 'string', 'l5d-err header');
  return decodeURIComponent((v as string).replace(/\+/g, ' '));
}

/** Requests in flight on the daemon's server and on every upstream endpoint. */
function inflight(d: RunningDaemon): { server: number; endpoints: number } {
  let server = 0;
  for (const s of d.daemon.servers().values()) server += s.inflight;
  let endpoints = 0;
  for (const r of d.daemon.routers().values()) for (const e of r.router.endpoints.endpoints()) endpoints += e.load;
  return { server, endpoints };
}

async function drained(d: RunningDaemon): Promise<void> {
  await eventually(() => {
    const n = inflight(d);
    return n.server === 0 && n.endpoints === 0;
  }, 2000, 'no request left in flight');
}

/** Bytes from a fixed seed: the same garbage every run. */
function noise(length: number, seed = 0x2545f491): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** POSTs `size` generated bytes, chunked, to the sink; resolves with its answer. */
function upload(port: number, size: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent: false, method: 'POST', path: '/upload', headers: { host: 'sink' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    new Generated(size).pipe(req);
  });
}

/** GETs `size` bytes from the source, counting them. */
function download(port: number, size: number): Promise<{ status: number; length: string | undefined; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent: false, path: '/download', headers: { host: 'source', 'x-size': String(size) } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, length: res.headers['content-length'], bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('streaming bodies larger than memory', () => {
  const disco = new Disco();
  let sink: Upstream;
  let source: Upstream;
  let d: RunningDaemon;
  /** The source's responses still open. */
  const open = new Set<ServerResponse>();
  let sourceBody: Generated | undefined;

  before(async () => {
    // Counts the body it gets and answers with the count.
    sink = await upstream('sink', (req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(String(n)));
    });
    // Streams `x-size` bytes, or 1 GiB.
    source = await upstream('source', (req, res) => {
      req.resume();
      const size = Number(req.headers['x-size'] ?? GiB);
      open.add(res);
      res.once('close', () => open.delete(res));
      sourceBody = new Generated(size);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
      sourceBody.pipe(res);
    });
    disco.set('sink', sink.port);
    disco.set('source', source.port);
    d = await startDaemon(fsConfig(disco.dir));
    // Some traffic first, so that the memory measured from here is that of a daemon at work.
    await upload(d.port(), 64 * MiB);
    await download(d.port(), 64 * MiB);
  });
  after(async () => {
    await d.close();
    await sink.close();
    await source.close();
    disco.close();
  });

  test('a 1 GiB chunked request body reaches the upstream whole, in flat memory', { timeout: 30_000 }, async (t) => {
    // About 2 s on a 2-core machine (some 500 MiB/s through the proxy), up to 6 s while other
    // work competes for the cores.
    const rss = watchRss();
    const started = Date.now();
    const reply = await upload(d.port(), GiB);
    const ms = Date.now() - started;
    const growth = rss.stop();
    t.diagnostic(`1 GiB up in ${ms} ms (${Math.round(GiB / MiB / (ms / 1000))} MiB/s), RSS growth ${(growth / MiB).toFixed(1)} MiB`);
    assert.equal(reply.status, 200);
    assert.equal(reply.text, String(GiB));
    assert.equal(sink.seen.at(-1)!.headers['transfer-encoding'], 'chunked');
    assert.ok(growth < 150 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
  });

  test('a 1 GiB response body reaches the client whole, in flat memory', { timeout: 30_000 }, async (t) => {
    const rss = watchRss();
    const started = Date.now();
    const got = await download(d.port(), GiB);
    const ms = Date.now() - started;
    const growth = rss.stop();
    t.diagnostic(`1 GiB down in ${ms} ms (${Math.round(GiB / MiB / (ms / 1000))} MiB/s), RSS growth ${(growth / MiB).toFixed(1)} MiB`);
    assert.equal(got.status, 200);
    assert.equal(got.length, String(GiB));
    assert.equal(got.bytes, GiB);
    assert.ok(growth < 150 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
  });

  test('a client that stops reading stops the upstream sending', async (t) => {
    let res: IncomingMessage | undefined;
    const req = request({ host: '127.0.0.1', port: d.port(), agent: false, path: '/', headers: { host: 'source' } }, (r) => {
      res = r;
      r.pause();
    });
    req.on('error', () => {});
    req.end();
    try {
      await eventually(() => res !== undefined && sourceBody !== undefined, 2000, 'the response head');
      const held = await settled(() => sourceBody!.pulled);
      t.diagnostic(`upstream stalled after ${(held / MiB).toFixed(1)} MiB`);
      assert.ok(held < 64 * MiB, `the proxy took ${(held / MiB).toFixed(1)} MiB from the upstream`);
    } finally {
      req.destroy();
    }
    // The proxy is blocked writing to the client: the close shows at once.
    await eventually(() => open.size === 0, 2000, 'the upstream response to close');
    await drained(d);
  });
});

describe('an upstream that stops reading', () => {
  const disco = new Disco();
  let stalled: Upstream;
  let d: RunningDaemon;
  /** The requests it holds unread, with what became of them. */
  const held: { req: IncomingMessage; bytes: number; ended: boolean; closed: boolean }[] = [];
  before(async () => {
    stalled = await upstream('stalled', (req) => {
      req.pause();
      const h = { req, bytes: 0, ended: false, closed: false };
      held.push(h);
      req.on('close', () => (h.closed = true));
      req.on('error', () => {});
    });
    disco.set('stalled', stalled.port);
    d = await startDaemon(fsConfig(disco.dir, '', '    idleTimeoutMs: 1000'));
  });
  after(async () => {
    await d.close();
    await stalled.close();
    disco.close();
  });

  test('stops the client sending: the proxy holds no more than socket buffers, and the idle timeout frees the exchange', async (t) => {
    const body = new Generated(GiB);
    const req = request({ host: '127.0.0.1', port: d.port(), agent: false, method: 'POST', path: '/', headers: { host: 'stalled' } });
    req.on('error', () => {});
    body.pipe(req);
    let stuck = 0;
    try {
      stuck = await settled(() => body.pulled);
      t.diagnostic(`client stalled after ${(stuck / MiB).toFixed(1)} MiB`);
      assert.ok(stuck < 64 * MiB, `the proxy took ${(stuck / MiB).toFixed(1)} MiB from the client`);
    } finally {
      req.destroy();
    }
    // While it is not reading the client's connection, the proxy cannot see it close: the idle
    // timeout (1 s here) is what ends the exchange.
    await eventually(() => inflight(d).server === 0 && inflight(d).endpoints === 0, 3000, 'the exchange to be dropped');
    // What the upstream then reads is a body cut short, never one that ends.
    const h = held.at(-1)!;
    h.req.on('data', (c: Buffer) => (h.bytes += c.length));
    h.req.on('end', () => (h.ended = true));
    h.req.resume();
    await eventually(() => h.closed, 2000, 'the upstream request to close');
    assert.equal(h.ended, false);
    assert.ok(h.bytes <= stuck, `${h.bytes} of ${stuck} bytes`);
  });
});

describe('a peer going away mid-exchange', () => {
  const disco = new Disco();
  let d: RunningDaemon;
  /** What the upstream saw of each request body, and of each response it was writing. */
  const bodies: { bytes: number; ended: boolean; closed: boolean }[] = [];
  const responses: { closed: boolean; finished: boolean; socketDestroyed: boolean }[] = [];
  let body: Upstream;
  let ticker: Upstream;
  const torn: RawUpstream[] = [];
  /** Request lines the flaky upstream read, in order. */
  const flakyLines: string[] = [];

  /** An upstream that answers every request with `bytes`, then ends (`fin`) or resets the connection. */
  async function tornUpstream(name: string, bytes: string, end: 'fin' | 'reset'): Promise<void> {
    const u = await rawUpstream((socket) => {
      socket.write(bytes, () => {
        // Once the bytes are out, the connection goes: reset or plain close.
        setTimeout(() => (end === 'reset' ? socket.resetAndDestroy() : socket.end()), 50);
      });
    });
    torn.push(u);
    disco.set(name, u.port);
  }

  before(async () => {
    body = await upstream('body', (req, res) => {
      const seen = { bytes: 0, ended: false, closed: false };
      bodies.push(seen);
      req.on('data', (c: Buffer) => (seen.bytes += c.length));
      req.on('end', () => {
        seen.ended = true;
        res.end('whole');
      });
      req.on('close', () => (seen.closed = true));
      req.on('error', () => {});
    });
    // Writes a chunk every 20 ms for as long as the response stays open.
    ticker = await upstream('ticker', (req, res) => {
      req.resume();
      const seen = { closed: false, finished: false, socketDestroyed: false };
      responses.push(seen);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(16 * KiB, 0x62);
      const timer = setInterval(() => res.write(chunk), 20);
      res.once('close', () => {
        clearInterval(timer);
        seen.closed = true;
        seen.finished = res.writableFinished;
        seen.socketDestroyed = req.socket.destroyed;
      });
    });
    disco.set('body', body.port);
    disco.set('ticker', ticker.port);
    const head = 'HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n';
    await tornUpstream('reset-length', `${head}content-length: 1000000\r\n\r\n${'x'.repeat(1000)}`, 'reset');
    await tornUpstream('fin-length', `${head}content-length: 1000000\r\n\r\n${'x'.repeat(1000)}`, 'fin');
    await tornUpstream('reset-chunked', `${head}transfer-encoding: chunked\r\n\r\n3e8\r\n${'x'.repeat(1000)}\r\n`, 'reset');
    await tornUpstream('fin-chunked', `${head}transfer-encoding: chunked\r\n\r\n3e8\r\n${'x'.repeat(1000)}\r\n`, 'fin');
    await tornUpstream('reset-head', 'HTTP/1.1 200 OK\r\ncontent-le', 'reset');
    await tornUpstream('reset-nothing', '', 'reset');
    // No length and not chunked: the body runs to the connection's end, and a reset is no end.
    await tornUpstream('reset-close', `${head}\r\n${'x'.repeat(1000)}`, 'reset');
    // Answers the first request on each connection and keeps the connection; drops it,
    // unanswered, on any later request.
    const flaky = await rawUpstream((socket, first) => {
      let n = 0;
      const onHead = (h: string): void => {
        flakyLines.push(h.slice(0, h.indexOf('\r\n')));
        if (n++ === 0) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        else socket.destroy();
      };
      let buf = '';
      socket.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        for (let i = buf.indexOf('\r\n\r\n'); i >= 0; i = buf.indexOf('\r\n\r\n')) {
          onHead(buf.slice(0, i));
          buf = buf.slice(i + 4);
        }
      });
      onHead(first);
    });
    torn.push(flaky);
    disco.set('flaky', flaky.port);
    d = await startDaemon(fsConfig(disco.dir));
  });
  after(async () => {
    await d.close();
    await body.close();
    await ticker.close();
    for (const u of torn) await u.close();
    disco.close();
  });

  test('a client leaving mid-body aborts the upstream request', async () => {
    const socket = await connectRaw(d.port());
    socket.on('error', () => {});
    const n = bodies.length;
    try {
      socket.write(`POST /upload HTTP/1.1\r\nHost: body\r\nContent-Length: ${10 * MiB}\r\n\r\n`);
      socket.write(Buffer.alloc(MiB, 0x63));
      await eventually(() => bodies.length > n && bodies[n]!.bytes > 0, 2000, 'the body to reach the upstream');
    } finally {
      socket.destroy();
    }
    const left = Date.now();
    await eventually(() => bodies[n]!.closed, 2000, 'the upstream request to close');
    const seen = bodies[n]!;
    assert.equal(seen.ended, false, 'the upstream must not see a complete body');
    assert.ok(seen.bytes <= MiB, `${seen.bytes} bytes`);
    assert.ok(Date.now() - left < 2000);
    await drained(d);
  });

  test('a client leaving mid-response closes the upstream response', async () => {
    const n = responses.length;
    let got = 0;
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: d.port(), agent: false, path: '/', headers: { host: 'ticker' } }, (res) => {
        res.on('data', (c: Buffer) => {
          got += c.length;
          if (got >= 64 * KiB) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => (got >= 64 * KiB ? undefined : reject(e)));
      req.end();
    });
    await eventually(() => responses[n]?.closed === true, 2000, 'the upstream response to close');
    assert.equal(responses[n]!.finished, false);
    assert.equal(responses[n]!.socketDestroyed, true, 'the upstream connection is closed, not pooled');
    await drained(d);
  });

  for (const [name, what] of [
    ['reset-length', 'resets the connection mid Content-Length body'],
    ['fin-length', 'closes the connection mid Content-Length body'],
    ['reset-chunked', 'resets the connection mid chunked body'],
    ['fin-chunked', 'closes the connection mid chunked body'],
    ['reset-close', 'resets the connection mid body delimited by the connection close'],
  ] as const) {
    test(`an upstream that ${what}: the client sees the response cut short, never complete`, async () => {
      const o = await outcome(d.port(), name);
      assert.equal(o.status, 200);
      assert.equal(o.complete, false, `a truncated body must not end cleanly (${o.bytes} bytes, error ${o.error})`);
      assert.ok(o.bytes <= 1000, `${o.bytes} bytes`);
      assert.notEqual(o.error, undefined);
      await drained(d);
    });
  }

  for (const [name, what] of [
    ['reset-head', 'resets the connection mid response head'],
    ['reset-nothing', 'resets the connection before answering'],
  ] as const) {
    test(`an upstream that ${what}: 502 from the proxy`, async () => {
      const o = await outcome(d.port(), name);
      assert.equal(o.status, 502);
      assert.equal(o.complete, true);
      assert.notEqual(o.headers['l5d-err'], undefined);
      // The request was written: a retry is not known to be safe.
      assert.equal(o.headers['l5d-retryable'], undefined);
      await drained(d);
    });
  }

  test('an upstream dropping a kept-alive connection on a POST, unanswered: 502, and the POST is not sent again', async () => {
    // The first request leaves a pooled connection, which the POST then goes out on.
    assert.equal((await send(d.port(), { path: '/warm', headers: { host: 'flaky' } })).status, 200);
    const r = await send(d.port(), { method: 'POST', path: '/order', headers: { host: 'flaky', 'content-length': '0' } });
    // The upstream may have acted on it before dropping the connection: only the client may
    // decide to send a non-idempotent request again.
    assert.deepEqual(
      flakyLines.filter((l) => l.startsWith('POST ')),
      ['POST /order HTTP/1.1'],
    );
    assert.equal(r.status, 502);
    await drained(d);
  });

  test('a client that half-closes after its request still gets the answer', async () => {
    const r = await rawExchange(d.port(), ['GET / HTTP/1.1\r\nHost: body\r\n\r\n', HALF_CLOSE], 1000);
    assert.deepEqual(
      parseResponses(r.data).map((x) => [x.status, x.body.toString(), x.complete]),
      [[200, 'whole', true]],
    );
    await drained(d);
  });
});

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

// The proxy's streams end to end on loopback: bodies far larger than memory both ways, in flat
// memory, and backpressure from a slow client or a slow upstream. The daemon runs in this
// process, so `process.memoryUsage` sees what it holds.

import assert from 'node:assert/strict';
import { type IncomingMessage, request, type ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Disco, eventually, fsConfig, type RunningDaemon, startDaemon, type Upstream, upstream } from '../support/proxy.ts';
import { drained, inflight } from '../support/raw.ts';
import { Generated, MiB, upload } from '../support/streams.ts';

const GiB = 1024 * MiB;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

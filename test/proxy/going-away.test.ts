// Peers going away mid-exchange, end to end on loopback: clients leaving mid-body or
// mid-response, upstreams resetting or closing at every stage, and half-closed clients.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Disco, eventually, fsConfig, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';
import { connectRaw, drained, HALF_CLOSE, parseResponses, type RawUpstream, rawExchange, rawUpstream } from '../support/raw.ts';
import { KiB, MiB, outcome } from '../support/streams.ts';

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

  test('a client that half-closes before the answer is taken as gone: nothing is answered', async () => {
    const r = await rawExchange(d.port(), ['GET / HTTP/1.1\r\nHost: body\r\n\r\n', HALF_CLOSE], 1000);
    // The upstream may have answered before the close was read; then the answer is whole.
    const replies = parseResponses(r.data);
    assert.ok(replies.length === 0 || (replies.length === 1 && replies[0]!.complete), JSON.stringify(replies.map((x) => x.status)));
    await drained(d);
  });
});

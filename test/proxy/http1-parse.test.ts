// The HTTP/1.1 head parser and chunked decoder on their own: what they accept, what they
// refuse (with which status), and hostile input of every shape.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChunkedDecoder, headEnd, HeadError, parseRequestHead, parseResponseHead } from '../../src/proxy/index.ts';

function refusal(f: () => unknown): HeadError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof HeadError, String(e));
    return e;
  }
  assert.fail('expected a refusal');
}

describe('request heads', () => {
  test('a request line, fields in order, and the framing', () => {
    const h = parseRequestHead('POST /a?b HTTP/1.1\r\nHost: web\r\nX-A:  1 \r\nx-a: 2\r\nContent-Length: 12');
    assert.equal(h.method, 'POST');
    assert.equal(h.target, '/a?b');
    assert.equal(h.version, '1.1');
    assert.deepEqual(h.raw, ['Host', 'web', 'X-A', '1', 'x-a', '2', 'Content-Length', '12']);
    assert.equal(h.framing, 'length');
    assert.equal(h.length, 12);
    assert.equal(h.keepAlive, true);
    assert.equal(parseRequestHead('GET / HTTP/1.1\r\nTransfer-Encoding: Chunked').framing, 'chunked');
    assert.equal(parseRequestHead('GET / HTTP/1.1\r\nContent-Length: 0').framing, 'none');
    assert.equal(parseRequestHead('GET / HTTP/1.1').framing, 'none');
  });

  test('keep-alive by version and Connection', () => {
    assert.equal(parseRequestHead('GET / HTTP/1.1\r\nConnection: close').keepAlive, false);
    assert.equal(parseRequestHead('GET / HTTP/1.1\r\nConnection: foo, Close').keepAlive, false);
    assert.equal(parseRequestHead('GET / HTTP/1.0').keepAlive, false);
    assert.equal(parseRequestHead('GET / HTTP/1.0\r\nConnection: keep-alive').keepAlive, true);
  });

  test('smuggling shapes and malformed heads are refused with 400, 501 or 505', () => {
    const cases: [string, number][] = [
      ['GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked', 400],
      ['GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1', 400],
      ['GET / HTTP/1.1\r\nContent-Length: 1, 1', 400],
      ['GET / HTTP/1.1\r\nContent-Length: +1', 400],
      ['GET / HTTP/1.1\r\nContent-Length: 0x10', 400],
      ['GET / HTTP/1.1\r\nContent-Length: 99999999999999999999', 400],
      ['GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked', 400],
      ['GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked', 501],
      ['GET / HTTP/1.1\r\nTransfer-Encoding: xchunked', 400],
      ['GET / HTTP/1.1\r\nTransfer-Encoding: chunked\u000b', 400],
      ['GET / HTTP/1.1\r\nContent-Length: \u000c4', 400],
      ['GET / HTTP/1.1\r\nHost: a\r\nHost: b', 400],
      ['GET / HTTP/1.0\r\nTransfer-Encoding: chunked', 400],
      ['GET / HTTP/1.1\r\nTransfer-Encoding : chunked', 400],
      ['GET / HTTP/1.1\r\nHost: a\r\n b', 400],
      ['GET / HTTP/1.1\r\nHost: a\nX: b', 400],
      ['GET / HTTP/1.1\r\nHost: a\rX: b', 400],
      ['GET / HTTP/1.1\r\n: empty', 400],
      ['GET / HTTP/1.1\r\nno colon', 400],
      ['GET / HTTP/1.1\r\nX: a\u0000b', 400],
      ['GET / HTTP/1.1\r\nX(y): 1', 400],
      ['GET  / HTTP/1.1', 400],
      ['GET /a b HTTP/1.1', 400],
      ['GET / HTTP/2.0', 505],
      ['GET / HTTP/1.1 ', 400],
      ['GET / http/1.1', 400],
      ['G(T / HTTP/1.1', 400],
      ['/ HTTP/1.1', 400],
      ['', 400],
      ['\u0016\u0003\u0001', 400],
    ];
    for (const [text, status] of cases) assert.equal(refusal(() => parseRequestHead(text)).status, status, JSON.stringify(text));
  });

  test('random bytes never crash the parser: it reads them or refuses them', () => {
    let seed = 42;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = 'GET /HTP1.0\r\n: ,chunkedContent-LngthTransfer\u0000\u00ff\t';
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const n = (rand() * 80) | 0;
      for (let j = 0; j < n; j++) s += alphabet[(rand() * alphabet.length) | 0];
      try {
        parseRequestHead(s);
      } catch (e) {
        assert.ok(e instanceof HeadError, `${JSON.stringify(s)}: ${String(e)}`);
      }
    }
  });

  test('the end of a head is found across reads', () => {
    const b = Buffer.from('GET / HTTP/1.1\r\nA: b\r\n\r\nrest');
    assert.equal(headEnd(b, 0), 24);
    assert.equal(headEnd(b, 23), 24);
    assert.equal(headEnd(Buffer.from('GET / HTTP/1.1\r\n'), 0), -1);
  });
});

describe('response heads', () => {
  test('status, framing, and no body where none can be', () => {
    const h = parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 5', 'GET');
    assert.deepEqual([h.status, h.reason, h.framing, h.length, h.keepAlive], [200, 'OK', 'length', 5, true]);
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 5', 'HEAD').framing, 'none');
    assert.equal(parseResponseHead('HTTP/1.1 204 No Content', 'GET').framing, 'none');
    assert.equal(parseResponseHead('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked', 'GET').framing, 'none');
    const close = parseResponseHead('HTTP/1.0 200 OK', 'GET');
    assert.deepEqual([close.framing, close.keepAlive], ['close', false]);
    assert.equal(parseResponseHead('HTTP/1.1 200', 'GET').reason, '');
  });

  test('malformed answers are 502', () => {
    for (const text of ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked', 'HTTP/1.1 2000 OK', 'HTTP/2 200', 'ICY 200 OK', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2']) {
      assert.equal(refusal(() => parseResponseHead(text, 'GET')).status, 502, text);
    }
  });
});

describe('chunked bodies', () => {
  function decode(parts: string[]): { data: string; used: number[]; done: boolean } {
    const d = new ChunkedDecoder();
    let data = '';
    const used: number[] = [];
    for (const p of parts) used.push(d.decode(Buffer.from(p, 'latin1'), (b) => (data += b.toString('latin1'))));
    return { data, used, done: d.done };
  }

  test('sizes, extensions and trailers, across any split', () => {
    const whole = '5;name=value\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\nNEXT';
    assert.deepEqual(decode([whole]), { data: 'hello0123456789', used: [whole.length - 4], done: true });
    for (let cut = 1; cut < whole.length - 4; cut++) {
      const r = decode([whole.slice(0, cut), whole.slice(cut)]);
      assert.equal(r.data, 'hello0123456789', `cut at ${cut}`);
      assert.equal(r.done, true);
      assert.equal(r.used[0]! + r.used[1]!, whole.length - 4);
    }
  });

  test('malformed codings are errors', () => {
    for (const bad of ['x\r\n', '5\nhello\r\n', '5\r\nhelloXX', '-1\r\n', '1234567890123\r\n', '5 5\r\n', '0\r\nbad\n', `${'1'.repeat(5000)}`]) {
      assert.throws(() => decode([bad]), Error, JSON.stringify(bad));
    }
  });
});

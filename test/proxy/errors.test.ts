// Error texts and responses as linkerd gives them (spec/linkerd.md §7), and the local dtab
// read from request headers (§6).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DtabCache, readDtab, readPath } from '../../src/dtab/index.ts';
import {
  BindingTimeoutError,
  ConnectionFailedError,
  ctxDtabHeader,
  describeRequest,
  DtabHeaderError,
  durationText,
  IdentificationError,
  javaUrlEncode,
  localDtab,
  NoBrokersAvailableError,
  ProxyLoopError,
  rescue,
} from '../../src/proxy/index.ts';

describe('error texts', () => {
  test('unidentified requests', () => {
    const e = new IdentificationError(describeRequest('GET', '/', '1.2.3.4', 5678), 'Host header is absent');
    assert.equal(e.message, 'Unknown destination: Request("GET /", from /1.2.3.4:5678) / Host header is absent');
    assert.equal(describeRequest('GET', '/x', '::1', 80), 'Request("GET /x", from /0:0:0:0:0:0:0:1:80)');
    assert.equal(describeRequest('GET', '/x', '::ffff:10.0.0.1', 80), 'Request("GET /x", from /10.0.0.1:80)');
    assert.equal(describeRequest('GET', '/x', 'fe80::a:b', 80), 'Request("GET /x", from /fe80:0:0:0:0:0:a:b:80)');
  });
  test('no route, with the base and override dtabs', () => {
    const e = new NoBrokersAvailableError(readPath('/svc/foo'), readDtab('/svc=>/#/io.l5d.fs;/x=>/a|/b'), readDtab('/svc/foo=>/svc/bar'));
    assert.equal(
      e.message,
      'Unable to route request!\n\nservice name: /svc/foo\ndtab:\n\nbase dtab:\n  /svc => /#/io.l5d.fs\n  /x => /a | /b\noverride dtab:\n  /svc/foo => /svc/bar\n',
    );
    assert.equal(e.status, 502);
    const empty = new NoBrokersAvailableError(readPath('/svc/foo'), readDtab(''), readDtab(''));
    assert.equal(empty.message, 'Unable to route request!\n\nservice name: /svc/foo\ndtab:\n\nbase dtab:\n\noverride dtab:\n\n');
  });
  test('timeouts, loops, connection failures', () => {
    assert.equal(new BindingTimeoutError(readPath('/svc/foo'), 10_000).message, 'exceeded 10.seconds to unspecified while dyn binding /svc/foo. Remote Info: Not Available');
    assert.equal(new ProxyLoopError(1000).message, 'Maximum number of calls (1000) has been exceeded. Please check for proxy loops.');
    assert.equal(
      new ConnectionFailedError('127.0.0.1:8888', readPath('/svc/cat'), readPath('/$/inet/127.1/8888'), ['127.0.0.1:8888']).message,
      'Unable to establish connection to 127.0.0.1:8888.\n\nservice name: /svc/cat\nclient name: /$/inet/127.1/8888\naddresses: [127.0.0.1:8888]\nselected address: 127.0.0.1:8888',
    );
    assert.deepEqual([500, 1000, 60_000, 90_000, 0].map(durationText), ['500.milliseconds', '1.seconds', '1.minutes', '90.seconds', '0.milliseconds']);
  });
});

describe('rescue', () => {
  test('status, URL-encoded l5d-err, plain-text body', () => {
    const r = rescue(new ProxyLoopError(3));
    assert.equal(r.status, 400);
    assert.equal(r.headers['l5d-err'], 'Maximum+number+of+calls+%283%29+has+been+exceeded.+Please+check+for+proxy+loops.');
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.body, 'Maximum number of calls (3) has been exceeded. Please check for proxy loops.');
    assert.equal(r.headers['l5d-retryable'], undefined);
  });
  test('a connection failure is retryable; other errors are 502 with their message or name', () => {
    const c = rescue(new ConnectionFailedError('a:1', readPath('/s'), readPath('/c'), []));
    assert.equal(c.status, 502);
    assert.equal(c.headers['l5d-retryable'], 'true');
    assert.equal(rescue(new Error('boom')).status, 502);
    assert.equal(rescue(new TypeError('')).body, 'TypeError');
    assert.equal(rescue('a string').body, 'a string');
  });
  test('the header and body are cut to their limits', () => {
    const r = rescue(new Error('é'.repeat(100) + ' x'), { maxHeaderBytes: 10, maxBodyBytes: 5 });
    assert.equal(r.headers['l5d-err'], '%E9%E9%E9%');
    assert.equal(r.body, 'ééééé');
  });
  test("Java's URL encoding", () => {
    assert.equal(javaUrlEncode('a-b_c.d*e f\n/~é€'), 'a-b_c.d*e+f%0A%2F%7E%E9%3F');
  });
});

describe('the local dtab from headers', () => {
  const cache = new DtabCache(100);
  test('l5d-ctx-dtab then l5d-dtab, each header repeatable, appended in order', () => {
    const d = localDtab(['/a=>/b', '/c=>/d'], ['/svc/web=>/svc/web-v2'], cache);
    assert.equal(d.show, '/a=>/b;/c=>/d;/svc/web=>/svc/web-v2');
    assert.equal(ctxDtabHeader(d), '/a=>/b;/c=>/d;/svc/web=>/svc/web-v2');
    assert.equal(localDtab(undefined, undefined, cache).isEmpty, true);
    assert.equal(ctxDtabHeader(localDtab([''], undefined, cache)), undefined);
  });
  test('a malformed header is a 400 with the parser message', () => {
    assert.throws(
      () => localDtab(undefined, ['/svc => => /x'], cache),
      (e: unknown) => e instanceof DtabHeaderError && e.status === 400 && /expected but '=' found/.test(e.message),
    );
    const r = rescue(new DtabHeaderError("'/' expected but 'x' found at 'x'"));
    assert.equal(r.status, 400);
  });
  test('hostile header values fail cleanly', () => {
    for (const v of ['\u0000', '/a=>'.repeat(10_000), '('.repeat(5000), '/a=>/b;'.repeat(50_000)]) {
      try {
        localDtab(undefined, [v], cache);
      } catch (e) {
        assert.ok(e instanceof DtabHeaderError, String(e));
      }
    }
  });
});

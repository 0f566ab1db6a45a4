// Retries end to end (spec/linkerd.md §5): classifiers decide what is retried, the budget bounds
// how much, retries are routed afresh with the body sent again, and totalTimeoutMs ends it all.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Disco, fsConfig, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

/** An upstream answering 500 with the body it read. */
function failing(name: string): Promise<Upstream> {
  return upstream(name, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      res.writeHead(500, { 'x-body': body });
      res.end(`${name} failed`);
    });
  });
}

function daemonWith(disco: Disco, service: string, client = ''): Promise<RunningDaemon> {
  return startDaemon(fsConfig(disco.dir, `  service:\n${service}${client === '' ? '' : `\n  client:\n${client}`}`));
}

describe('retries', () => {
  const disco = new Disco();
  let good: Upstream;
  let bad: Upstream;
  let bad2: Upstream;
  let hang: Upstream;
  const daemons: RunningDaemon[] = [];
  before(async () => {
    good = await upstream('good', (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => res.end(`good:${body}`));
    });
    bad = await failing('bad');
    bad2 = await failing('bad2');
    hang = await upstream('hang', () => {});
    disco.set('mixed', good.port, bad.port);
    disco.set('down', bad.port, bad2.port);
    disco.set('hang', hang.port);
  });
  after(async () => {
    for (const d of daemons) await d.close();
    await Promise.all([good.close(), bad.close(), bad2.close(), hang.close()]);
    disco.close();
  });

  test('retryableRead5XX: a replica answering 500 costs the caller nothing; it is taken out', async () => {
    const d = await daemonWith(disco, '    responseClassifier: {kind: io.l5d.http.retryableRead5XX}', '    failureAccrual: {kind: io.l5d.consecutiveFailures, failures: 3, backoff: {kind: constant, ms: 60000}}');
    daemons.push(d);
    const badBefore = bad.seen.length;
    for (let i = 0; i < 60; i++) {
      const r = await send(d.port(), { headers: { host: 'mixed' } });
      assert.equal(r.status, 200, `request ${i}`);
      assert.equal(r.headers['l5d-success-class'], '1.0');
    }
    // Three 500s took it out; the rest went to the good replica.
    assert.ok(bad.seen.length - badBefore <= 3, `${bad.seen.length - badBefore} requests reached the failing replica`);
  });

  test('the default classifier retries nothing: a GET gets its 500 and l5d-success-class 0.0', async () => {
    const d = await daemonWith(disco, '    totalTimeoutMs: 10000', '    failureAccrual: {kind: none}');
    daemons.push(d);
    const before = bad.seen.length + bad2.seen.length;
    const r = await send(d.port(), { method: 'GET', headers: { host: 'down' } });
    assert.equal(r.status, 500);
    assert.equal(r.headers['l5d-success-class'], '0.0');
    assert.equal(bad.seen.length + bad2.seen.length - before, 1);
  });

  test('a retry storm is impossible: with every replica failing, retries stay within the budget', async () => {
    const d = await daemonWith(
      disco,
      '    responseClassifier: {kind: io.l5d.http.retryableAll5XX}\n    retries: {budget: {minRetriesPerSec: 0, percentCanRetry: 0.2, ttlSecs: 60}}',
      '    failureAccrual: {kind: none}',
    );
    daemons.push(d);
    const before = bad.seen.length + bad2.seen.length;
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) {
      const r = await send(d.port(), { method: 'POST', headers: { host: 'down' }, body: `n${i}` });
      assert.equal(r.status, 500);
    }
    const attempts = bad.seen.length + bad2.seen.length - before;
    // 100 requests and at most 20 % more.
    assert.ok(attempts >= 100 && attempts <= 120, `${attempts} attempts`);
    assert.ok(Date.now() - t0 < 5000);
    const router = d.daemon.routers().values().next().value!.router;
    assert.equal(router.retries, attempts - 100);
  });

  test('a retried POST sends its body again, to another replica', async () => {
    const d = await daemonWith(disco, '    responseClassifier: {kind: io.l5d.http.retryableAll5XX}', '    failureAccrual: {kind: none}');
    daemons.push(d);
    for (let i = 0; i < 20; i++) {
      const r = await send(d.port(), { method: 'POST', headers: { host: 'mixed' }, body: `payload-${i}` });
      assert.equal(r.status, 200);
      assert.equal(r.body, `good:payload-${i}`);
    }
    for (const s of bad.seen.slice(-5)) assert.equal(s.method, 'POST');
  });

  test('totalTimeoutMs answers 503 in linkerd words and cancels the attempt; retries never run past it', async () => {
    const d = await daemonWith(disco, '    totalTimeoutMs: 300\n    responseClassifier: {kind: io.l5d.http.retryableAll5XX}');
    daemons.push(d);
    const t0 = Date.now();
    const r = await send(d.port(), { headers: { host: 'hang' } });
    const took = Date.now() - t0;
    assert.equal(r.status, 503);
    assert.equal(r.body, 'exceeded 300.milliseconds to /svc/hang while waiting for a response for the request, including retries (if applicable)');
    assert.ok(took >= 290 && took < 2000, `${took} ms`);
    // A failing service with a retry backoff longer than the timeout: answered at the timeout.
    const d2 = await daemonWith(
      disco,
      '    totalTimeoutMs: 400\n    responseClassifier: {kind: io.l5d.http.retryableAll5XX}\n    retries: {backoff: {kind: constant, ms: 150}}',
      '    failureAccrual: {kind: none}',
    );
    daemons.push(d2);
    const before = bad.seen.length + bad2.seen.length;
    const t1 = Date.now();
    const r2 = await send(d2.port(), { headers: { host: 'down' } });
    assert.equal(r2.status, 503);
    assert.ok(Date.now() - t1 < 1000);
    assert.ok(bad.seen.length + bad2.seen.length - before <= 4, 'no retry after the timeout');
  });
});

describe('attempt timeouts and deadlines', () => {
  const disco = new Disco();
  let good: Upstream;
  let hang: Upstream;
  let d: RunningDaemon;
  before(async () => {
    good = await upstream('good');
    hang = await upstream('hang', () => {});
    disco.set('mixed', good.port, hang.port);
    disco.set('hang', hang.port);
    d = await startDaemon(
      fsConfig(disco.dir, `  client:\n    requestAttemptTimeoutMs: 200\n    failureAccrual: {kind: io.l5d.consecutiveFailures, failures: 1, backoff: {kind: constant, ms: 60000}}\n  service:\n    responseClassifier: {kind: io.l5d.http.retryableRead5XX}`),
    );
  });
  after(async () => {
    await d.close();
    await Promise.all([good.close(), hang.close()]);
    disco.close();
  });

  test('a replica that accepts and then hangs is timed out per attempt, and the retry goes elsewhere', async () => {
    for (let i = 0; i < 10; i++) {
      const t0 = Date.now();
      const r = await send(d.port(), { headers: { host: 'mixed' } });
      assert.equal(r.status, 200);
      assert.ok(Date.now() - t0 < 1500);
    }
    const r = await send(d.port(), { method: 'POST', headers: { host: 'hang' }, body: 'x' });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'exceeded 200.milliseconds to /svc/hang while waiting for a response for an individual request, excluding retries');
  });

  test('a request whose deadline has passed is not sent; a near one bounds the wait', async () => {
    const before = good.seen.length;
    const past = `${BigInt(Date.now() - 2000) * 1_000_000n} ${BigInt(Date.now() - 1000) * 1_000_000n}`;
    const r = await send(d.port(), { headers: { host: 'mixed', 'l5d-ctx-deadline': past } });
    assert.equal(r.status, 503);
    assert.match(r.body, /exceeded the request deadline/);
    assert.equal(good.seen.length, before);
    const soon = `${BigInt(Date.now()) * 1_000_000n} ${BigInt(Date.now() + 100) * 1_000_000n}`;
    const t0 = Date.now();
    const r2 = await send(d.port(), { method: 'POST', headers: { host: 'hang', 'l5d-ctx-deadline': soon }, body: 'x' });
    assert.equal(r2.status, 503);
    assert.ok(Date.now() - t0 < 190, 'the deadline, not the attempt timeout, ended it');
  });
});

describe('per-prefix parameters (io.l5d.static)', () => {
  const disco = new Disco();
  let good: Upstream;
  let bad: Upstream;
  let d: RunningDaemon;
  before(async () => {
    good = await upstream('good');
    bad = await failing('bad');
    disco.set('a', good.port, bad.port);
    disco.set('b', good.port, bad.port);
    d = await startDaemon(
      fsConfig(
        disco.dir,
        `  service:
    kind: io.l5d.static
    configs:
    - prefix: /svc/a
      responseClassifier: {kind: io.l5d.http.retryableRead5XX}
  client:
    kind: io.l5d.static
    configs:
    - prefix: /#/io.l5d.fs
      failureAccrual: {kind: none}`,
      ),
    );
  });
  after(async () => {
    await d.close();
    await Promise.all([good.close(), bad.close()]);
    disco.close();
  });

  test("a service's prefix config applies to it alone", async () => {
    let aFailures = 0;
    let bFailures = 0;
    for (let i = 0; i < 40; i++) {
      if ((await send(d.port(), { headers: { host: 'a' } })).status !== 200) aFailures++;
      if ((await send(d.port(), { headers: { host: 'b' } })).status !== 200) bFailures++;
    }
    // /svc/a retries its 500s; /svc/b, under the default classifier, passes them on; with
    // accrual off for these clients the failing replica keeps its share.
    assert.equal(aFailures, 0);
    assert.ok(bFailures > 5, `${bFailures} failures on b`);
  });
});

describe('cancellation', () => {
  const disco = new Disco();
  let bad: Upstream;
  let slow: Upstream;
  let d: RunningDaemon;
  before(async () => {
    bad = await failing('bad');
    slow = await upstream('slow', (req, res) => {
      req.resume();
      setTimeout(() => res.end('late'), 2000);
    });
    disco.set('down', bad.port);
    disco.set('slow', slow.port);
    d = await daemonWith(disco, '    responseClassifier: {kind: io.l5d.http.retryableAll5XX}\n    retries: {backoff: {kind: constant, ms: 300}}', '    failureAccrual: {kind: none}');
  });
  after(async () => {
    await d.close();
    await Promise.all([bad.close(), slow.close()]);
    disco.close();
  });

  test('a caller hanging up cancels the attempt in flight', async () => {
    const { request } = await import('node:http');
    const closed = new Promise<void>((resolve) => {
      slow.server.once('request', (req) => req.socket.once('close', () => resolve()));
    });
    const req = request({ host: '127.0.0.1', port: d.port(), headers: { host: 'slow' }, agent: false });
    req.on('error', () => {});
    req.end();
    await new Promise((r) => setTimeout(r, 200));
    req.destroy();
    const t0 = Date.now();
    await closed;
    assert.ok(Date.now() - t0 < 1000, 'the upstream connection closed at once');
  });

  test('a caller hanging up during a retry backoff cancels the pending retry', async () => {
    const { request } = await import('node:http');
    const before = bad.seen.length;
    const req = request({ host: '127.0.0.1', port: d.port(), headers: { host: 'down' }, agent: false });
    req.on('error', () => {});
    req.end();
    // The first attempt fails at once; the retry waits 300 ms.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(bad.seen.length - before, 1);
    req.destroy();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(bad.seen.length - before, 1, 'no retry was sent for a caller that left');
  });
});

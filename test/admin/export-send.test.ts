// Scrapes the export thread writes straight to the scraper's connection, seen from the wire:
// kept-alive and pipelined requests before and after one, HTTP/1.0 and HEAD (sent the usual
// way), and scrapers that leave at once or mid-body, after which the admin server goes on.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Disco, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';
import { connectRaw, parseResponses, rawExchange } from '../support/raw.ts';

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nhost: admin\r\n${extra}\r\n`;

describe('scrapes written to the connection by the export thread', () => {
  const disco = new Disco();
  let web: Upstream;
  let d: RunningDaemon;
  const exporter = () => d.daemon.admin.exporter;

  before(async () => {
    web = await upstream('web');
    disco.set('web', web.port);
    d = await startDaemon(`admin: {ip: 127.0.0.1, port: 0, exportThreadMinMetrics: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${disco.dir}
routers:
- protocol: http
  label: scraped
  dtab: /svc => /#/io.l5d.fs
  servers:
  - port: 0
`);
    for (let i = 0; i < 5; i++) assert.equal((await send(d.port(), { headers: { host: 'web' } })).status, 200);
  });
  after(async () => {
    await d.close();
    await web.close();
    disco.close();
  });

  test('pipelined and kept-alive requests around a scrape are each answered whole, in order', async () => {
    const before = exporter().writtenTo;
    const reply = await rawExchange(d.adminPort, [get('/admin/metrics.json') + get('/admin/metrics/prometheus') + get('/admin/ping'), 300, get('/admin/metrics.json?q=rt/scraped'), 300, get('/admin/ping')], 300);
    const responses = parseResponses(reply.data);
    assert.deepEqual(
      responses.map((r) => [r.status, r.complete]),
      Array.from({ length: 5 }, () => [200, true]),
    );
    const [flat, prom, pong, scoped, pong2] = responses as [(typeof responses)[0], (typeof responses)[0], (typeof responses)[0], (typeof responses)[0], (typeof responses)[0]];
    assert.equal(flat.headers['transfer-encoding'], 'chunked');
    const values = JSON.parse(flat.body.toString('utf8')) as Record<string, number>;
    assert.equal(values[`rt/scraped/server/127.0.0.1/${d.port()}/requests`], 5);
    assert.match(prom.body.toString('utf8'), /^rt:server:requests\{[^}]*rt="scraped"[^}]*\} 5$/m);
    assert.ok(prom.body.toString('utf8').endsWith('\n'));
    assert.equal(pong.body.toString(), 'pong');
    assert.ok(Object.keys(JSON.parse(scoped.body.toString('utf8')) as object).every((k) => k.startsWith('rt/scraped')));
    assert.equal(pong2.body.toString(), 'pong');
    // The first scrape and the one asked alone went straight to the connection.
    assert.ok(exporter().writtenTo >= before + 2, `written to the connection: ${exporter().writtenTo - before}`);
    assert.equal(exporter().failure, undefined);
  });

  test('HTTP/1.0 and HEAD are answered the usual way', async () => {
    const before = exporter().writtenTo;
    const old = await rawExchange(d.adminPort, ['GET /admin/metrics.json HTTP/1.0\r\n\r\n'], 2000);
    const [r] = parseResponses(old.data);
    assert.equal(r?.status, 200);
    assert.equal(r?.headers['transfer-encoding'], undefined);
    assert.ok(old.closed, 'the connection closes at the end of the body');
    const keys = Object.keys(JSON.parse(r!.body.toString('utf8')) as object).sort();
    const viaThread = (await send(d.adminPort, { path: '/admin/metrics.json' })).body;
    assert.deepEqual(Object.keys(JSON.parse(viaThread) as object).sort(), keys);
    const head = await rawExchange(d.adminPort, ['HEAD /admin/metrics/prometheus HTTP/1.1\r\nhost: admin\r\n\r\n', get('/admin/ping')], 300);
    // The ping's answer follows the head at once: no body came between.
    const split = head.data.indexOf('\r\n\r\n') + 4;
    assert.match(head.data.subarray(0, split).toString('latin1'), /^HTTP\/1\.1 200 /);
    assert.equal(parseResponses(head.data.subarray(split))[0]?.body.toString(), 'pong');
    assert.equal(exporter().writtenTo, before + 1, 'only the HTTP/1.1 GET went straight to the connection');
  });

  test('scrapers that leave at once or mid-body leave the admin server answering', async () => {
    for (let i = 0; i < 20; i++) {
      const s = await connectRaw(d.adminPort);
      s.on('error', () => {});
      s.write(get(i % 2 === 0 ? '/admin/metrics.json' : '/admin/metrics/prometheus'));
      if (i % 4 === 0) s.destroy();
      else if (i % 4 === 1) s.resetAndDestroy();
      else if (i % 4 === 2) s.end();
      else s.once('data', () => s.resetAndDestroy());
    }
    const ping = await send(d.adminPort, { path: '/admin/ping' });
    assert.equal(ping.body, 'pong');
    const r = await send(d.adminPort, { path: '/admin/metrics.json' });
    assert.equal(r.status, 200);
    assert.ok(Object.keys(JSON.parse(r.body) as object).length > 10);
    assert.equal(exporter().failure, undefined);
    assert.equal((await send(d.port(), { headers: { host: 'web' } })).status, 200);
  });
});

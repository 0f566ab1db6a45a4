// Scrapes the export thread writes straight to the scraper's connection, seen from the wire:
// kept-alive and pipelined requests before and after one, HTTP/1.0 and HEAD (sent the usual
// way), scrapers that leave at once or mid-body, after which the admin server goes on, and
// scrapers beyond those the thread holds at once, sent the usual way after the head.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { sendExport } from '../../src/admin/export-send.ts';
import { ExportThread, flatJson } from '../../src/metrics/index.ts';
import { clientTree } from '../support/metrics-tree.ts';
import { Disco, eventually, fsConfig, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';
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
    d = await startDaemon(fsConfig(disco.dir, '  label: scraped', '', ', exportThreadMinMetrics: 0'));
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
    const server = d.daemon.admin.server;
    const connections = (): Promise<number> => new Promise((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
    const [open, before] = [await connections(), exporter().writtenTo];
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
    // The ones read first went through the thread, and every connection left was closed.
    assert.ok(exporter().writtenTo > before, 'written to the connection');
    await eventually(async () => (await connections()) <= open, 5000, 'the connections left are closed');
  });
});

describe('scrapers beyond those the thread holds at once', () => {
  test('are sent the usual way after the head, whole, while eight scrapers that do not read hold the thread', async () => {
    const r = clientTree(12_000);
    const ex = new ExportThread(r, { minMetrics: 0 });
    const server = createServer((req, res) => {
      req.resume();
      void sendExport(req, res, 'application/json', ex, { format: 'json', under: undefined }, (c) => ex.release(c));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const sockets: Socket[] = [];
    const received: Buffer[][] = [];
    try {
      for (let i = 0; i < 9; i++) {
        const s = await connectRaw(port);
        const got: Buffer[] = [];
        s.on('data', (c: Buffer) => got.push(c));
        // The first eight do not read; the ninth does.
        if (i < 8) s.pause();
        s.write(get('/admin/metrics.json'));
        sockets.push(s);
        received.push(got);
        if (i < 8) await eventually(() => ex.writingTo === i + 1, 5000, `scrape ${i + 1} held by the thread`);
      }
      const whole = (i: number): boolean => parseResponses(Buffer.concat(received[i]!))[0]?.complete === true;
      await eventually(() => whole(8), 10_000, 'the ninth scrape arrives whole');
      assert.equal(ex.writtenTo, 0, 'the eight that do not read are still held');
      const want = flatJson(r);
      const ninth = parseResponses(Buffer.concat(received[8]!))[0]!;
      assert.equal(ninth.headers['transfer-encoding'], 'chunked');
      assert.equal(ninth.body.toString('utf8'), want);
      for (const s of sockets.slice(0, 8)) s.resume();
      await eventually(() => [0, 1, 2, 3, 4, 5, 6, 7].every(whole), 20_000, 'the eight arrive whole once read');
      for (let i = 0; i < 8; i++) assert.equal(parseResponses(Buffer.concat(received[i]!))[0]!.body.toString('utf8'), want);
      assert.equal(ex.writtenTo, 8);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
      await ex.close();
      r.close();
    }
  });
});

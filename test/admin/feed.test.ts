// The dashboard's WebSocket feed: a snapshot each interval with the numbers the metrics tree
// holds after real traffic, and delegations followed live as the namers change.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { Disco, fsConfig, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

/** A page: every message it got, and a way to wait for the next one that matches. */
class Page {
  readonly ws: WebSocket;
  readonly messages: Record<string, unknown>[] = [];
  /** The messages as sent (JSON.parse keeps only the last of two equal keys). */
  readonly raw: string[] = [];
  #waiters: [(m: Record<string, unknown>) => boolean, (m: Record<string, unknown>) => void][] = [];

  constructor(port: number) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/admin/ws`);
    this.ws.on('message', (data) => {
      this.raw.push(data.toString());
      const m = JSON.parse(data.toString()) as Record<string, unknown>;
      this.messages.push(m);
      this.#waiters = this.#waiters.filter(([f, resolve]) => (f(m) ? (resolve(m), false) : true));
    });
  }

  next(f: (m: Record<string, unknown>) => boolean, ms = 5000): Promise<Record<string, unknown>> {
    const seen = this.messages.find(f);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching message in ${ms} ms; got ${JSON.stringify(this.messages.slice(-3))}`)), ms);
      this.#waiters.push([f, (m) => (clearTimeout(t), resolve(m))]);
    });
  }

  send(m: unknown): void {
    this.ws.send(JSON.stringify(m));
  }
}

type Snapshot = { routers: Record<string, { retryBudgetPercent: number; clients: Record<string, Record<string, unknown>>; services: Record<string, Record<string, unknown>>; servers: Record<string, Record<string, unknown>> }>; process: Record<string, unknown> };

describe('dashboard feed', () => {
  const disco = new Disco();
  let a: Upstream;
  let b: Upstream;
  let d: RunningDaemon;
  before(async () => {
    a = await upstream('a');
    b = await upstream('b');
    disco.set('web', a.port);
    d = await startDaemon(fsConfig(disco.dir, '  label: edge'));
  });
  after(async () => {
    await d.close();
    await a.close();
    await b.close();
    disco.close();
  });

  test('hello, then snapshots whose counters match the traffic sent', async () => {
    const page = new Page(d.adminPort);
    const hello = await page.next((m) => m['type'] === 'hello');
    assert.deepEqual(hello['routers'], ['edge']);
    assert.equal(hello['intervalMs'], 1000);
    for (let i = 0; i < 6; i++) assert.equal((await send(d.port(), { headers: { host: 'web' } })).status, 200);
    const snap = (await page.next((m) => {
      const s = m as unknown as Snapshot;
      return m['type'] === 'metrics' && s.routers['edge']?.clients['#/io.l5d.fs/web']?.['requests'] === 6;
    })) as unknown as Snapshot;
    const r = snap.routers['edge']!;
    assert.equal(r.retryBudgetPercent, 20);
    const client = r.clients['#/io.l5d.fs/web']!;
    assert.equal(client['success'], 6);
    assert.equal(client['lbSize'], 1);
    assert.equal(client['lbAvailable'], 1);
    assert.equal(r.services['svc/web']!['requests'], 6);
    // The service's own numbers, not those of the service scope inside the client (which would
    // be a second "svc/web" key, hidden by JSON.parse); failure and retry counts that are 0 are
    // left out.
    const raw = page.raw[page.messages.indexOf(snap as unknown as Record<string, unknown>)]!;
    assert.equal(raw.match(/"svc\/web":/g)?.length, 1, raw);
    assert.equal(r.services['svc/web']!['retries'], undefined);
    assert.equal(client['failures'], undefined);
    assert.deepEqual(Object.keys(r.services), ['svc/web']);
    const server = Object.values(r.servers)[0]!;
    assert.equal(server['requests'], 6);
    assert.ok((server['latency'] as Record<string, number>)['p99']! >= 0);
    assert.equal(typeof snap.process['uptimeMs'], 'number');
    assert.equal(snap.process['version'], '0.1.0');
    page.ws.close();
  });

  test('a followed delegation is sent again when the namer changes it', async () => {
    const page = new Page(d.adminPort);
    await page.next((m) => m['type'] === 'hello');
    page.send({ type: 'delegate', id: 7, namespace: 'edge', dtab: '/svc => /#/io.l5d.fs', path: '/svc/web' });
    const port = (m: Record<string, unknown>): number | undefined => {
      const body = m['body'] as { delegate?: { bound?: { addr?: { addrs?: { port: number }[] } } } } | undefined;
      return body?.delegate?.bound?.addr?.addrs?.[0]?.port;
    };
    const first = await page.next((m) => m['type'] === 'delegation');
    assert.equal(first['id'], 7);
    assert.equal(first['status'], 200);
    assert.equal(port(first), a.port);
    disco.set('web', b.port);
    const moved = await page.next((m) => m['type'] === 'delegation' && port(m) === b.port);
    assert.equal(moved['id'], 7);
    // Undelegated: a further change is not sent.
    page.send({ type: 'undelegate' });
    await new Promise((r) => setTimeout(r, 100));
    const count = page.messages.filter((m) => m['type'] === 'delegation').length;
    disco.set('web', a.port);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(page.messages.filter((m) => m['type'] === 'delegation').length, count);
    page.ws.close();
  });

  test('snapshots stop when the last page closes', async () => {
    const pages = [new Page(d.adminPort), new Page(d.adminPort)];
    await Promise.all(pages.map((p) => p.next((m) => m['type'] === 'metrics')));
    assert.equal(d.daemon.admin.feed.pages, 2);
    for (const p of pages) p.ws.close();
    const deadline = Date.now() + 3000;
    while (d.daemon.admin.feed.pages > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(d.daemon.admin.feed.pages, 0);
    const pushes = d.daemon.admin.feed.pushes;
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(d.daemon.admin.feed.pushes, pushes);
  });
});

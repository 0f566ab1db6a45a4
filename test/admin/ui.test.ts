// The admin UI in a real browser: headless Chromium drives the dashboard and the delegator
// of an in-process daemon with two routers over io.l5d.fs, while real HTTP traffic flows.
// Each test leaves a screenshot in .artifacts/; with UPDATE_SCREENSHOTS=1 the richest states
// also replace docs/images/*.png (the README's), which a normal run leaves alone.

import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium, openPage, textOf, tid } from '../support/browser.ts';
import { Disco, eventually, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IMAGES = `${ROOT}docs/images/`;

describe('admin UI in headless Chromium', () => {
  const disco = new Disco();
  let web: Upstream;
  let api: Upstream;
  let v2: Upstream;
  let flaky: Upstream;
  let d: RunningDaemon;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let traffic: Promise<void> | undefined;
  /** A dashboard open from the start: its history spans every test, for the richest screenshot. */
  let watcher: { page: Page; errors: string[] };
  let stop = false;

  /** Two routers: `http` (linkerd's default label) and `edge`; the admin port fixed when given. */
  const config = (adminPort = 0): string => `admin: {ip: 127.0.0.1, port: ${adminPort}}
namers:
- kind: io.l5d.fs
  rootDir: ${disco.dir}
routers:
- protocol: http
  dtab: /svc => /#/io.l5d.fs
  service: {responseClassifier: {kind: io.l5d.http.retryableRead5XX}}
  servers: [{port: 0}]
- protocol: http
  label: edge
  dtab: /svc => /#/io.l5d.fs
  servers: [{port: 0}]
`;

  /** Steady traffic on both routers (one request in ten to a failing upstream) until `after`. */
  async function pump(): Promise<void> {
    const hosts = ['web', 'web', 'api', 'web', 'api', 'web', 'web', 'api', 'web', 'flaky'];
    let i = 0;
    while (!stop) {
      const host = hosts[i++ % hosts.length]!;
      try {
        await Promise.all([send(d.port('http'), { headers: { host } }), send(d.port('edge'), { headers: { host: 'web' } })]);
      } catch {
        // the daemon is restarting: try again shortly
      }
      await new Promise((r) => setTimeout(r, 15));
    }
  }

  /** A fresh browser context (its own localStorage) with a page at `path`, recording errors. */
  async function open(path: string): Promise<{ page: Page; errors: string[] }> {
    const { context, page, errors } = await openPage(browser, `http://127.0.0.1:${d.adminPort}${path}`);
    contexts.push(context);
    return { page, errors };
  }

  const text = textOf;
  const count = (s: string): number => Number(s.replace(/[^0-9.]/g, '') || 'NaN');

  async function shot(page: Page, name: string, publish = false): Promise<void> {
    await page.screenshot({ path: `${ARTIFACTS}${name}.png` });
    if (publish && process.env['UPDATE_SCREENSHOTS'] === '1') copyFileSync(`${ARTIFACTS}${name}.png`, `${IMAGES}${name.split('-')[0]}.png`);
  }

  before(async () => {
    [web, api, v2] = await Promise.all([upstream('web'), upstream('api'), upstream('web-v2')]);
    flaky = await upstream('flaky', (req, res) => {
      req.resume();
      res.writeHead(500);
      res.end();
    });
    disco.set('web', web.port);
    disco.set('api', api.port);
    disco.set('web-v2', v2.port);
    disco.set('flaky', flaky.port);
    [d, browser] = await Promise.all([startDaemon(config()), launchChromium()]);
    traffic = pump();
    watcher = await open('/');
  });

  after(async () => {
    stop = true;
    await traffic;
    for (const c of contexts) await c.close();
    await browser?.close();
    await d?.close();
    await Promise.all([web, api, v2, flaky].map((u) => u?.close()));
    disco.close();
  });

  test('dashboard: loads clean, and its numbers and charts move as traffic flows', async () => {
    const { page, errors } = watcher;
    await page.locator(`${tid('conn-status')}[data-state="live"]`).waitFor();
    await page.locator(tid('router-http')).waitFor();
    await page.locator(tid('router-edge')).waitFor();
    // Two readings a few samples apart: the request count and the chart's history both grow.
    await eventually(async () => count(await text(page, tid('router-requests-http'))) > 0, 5000, 'requests counted');
    const requests0 = count(await text(page, tid('router-requests-http')));
    const points0 = Number(await page.locator(tid('router-chart-http')).getAttribute('data-points'));
    await eventually(async () => count(await text(page, tid('router-requests-http'))) > requests0, 5000, 'requests growing');
    await eventually(async () => Number(await page.locator(tid('router-chart-http')).getAttribute('data-points')) >= points0 + 2, 5000, 'chart history growing');
    await eventually(async () => count(await text(page, tid('router-rps-http'))) > 0, 5000, 'a request rate');
    assert.equal(await page.locator(`${tid('router-chart-http')} canvas`).count(), 1, 'the combined chart is drawn by uPlot');
    assert.match(await text(page, tid('router-sr-http')), /%$/);
    assert.notEqual(await text(page, tid('fact-version')), '–');
    assert.match(await text(page, tid('fact-rss')), /iB$/);
    // A client row shows its endpoints; expanding it draws its own charts, and only then.
    const client = page.locator(`${tid('router-http')} ${tid('client-row')}[data-name="#/io.l5d.fs/web"]`);
    await client.waitFor();
    await eventually(async () => (await client.locator('[data-col="extra"]').textContent()) === '1/1 endpoints', 5000, 'endpoints available');
    assert.equal(await page.locator(tid('row-chart')).count(), 0, 'no row chart before a row is expanded');
    await client.click();
    await eventually(async () => Number(await page.locator(tid('row-chart')).first().getAttribute('data-points')) > 1, 5000, 'the row chart fills');
    // GETs to the failing upstream are retried (retryableRead5XX): the share shows against the budget.
    await eventually(async () => count((await text(page, tid('router-retries-http'))).split(' of ')[0]!) > 0, 5000, 'a retry share');
    assert.match(await text(page, tid('router-retries-http')), / of 20%$/);
    await shot(page, 'dashboard-first');
    assert.deepEqual(errors, []);
  });

  test('dashboard: the search box filters clients, and collapsed sections stay collapsed', async () => {
    const { page, errors } = await open('/');
    const clients = `${tid('router-http')} ${tid('client-row')}`;
    await eventually(async () => (await page.locator(clients).count()) >= 3, 5000, 'three clients on http');
    await page.locator(tid('search')).fill('api');
    await eventually(async () => (await page.locator(`${clients}:visible`).count()) === 1, 2000, 'one client left');
    assert.equal(await page.locator(`${clients}:visible`).getAttribute('data-name'), '#/io.l5d.fs/api');
    assert.match(await text(page, `${tid('router-http')} ${tid('clients-count')}`), /\(1 of \d+\)/);
    assert.match(page.url(), /[?&]q=api/);
    await page.locator(tid('search')).fill('');
    await eventually(async () => (await page.locator(`${clients}:visible`).count()) >= 3, 2000, 'all clients back');

    // Collapsing a router drops its charts and is remembered across a reload.
    await page.locator(tid('router-toggle-edge')).click();
    assert.equal(await page.locator(tid('router-chart-edge')).count(), 0);
    const group = page.locator(`${tid('router-http')} ${tid('group-clients')}`);
    await group.locator('.group-head').click();
    assert.equal(await page.locator(`${clients}:visible`).count(), 0);
    await page.reload();
    await page.locator(`${tid('conn-status')}[data-state="live"]`).waitFor();
    await page.locator(tid('router-edge')).waitFor();
    assert.match((await page.locator(tid('router-edge')).getAttribute('class')) ?? '', /collapsed/);
    assert.equal(await page.locator(tid('router-chart-edge')).count(), 0);
    await page.locator(tid('router-chart-http')).waitFor();
    assert.match((await group.getAttribute('class')) ?? '', /collapsed/);
    await page.locator(tid('router-toggle-edge')).click();
    await page.locator(tid('router-chart-edge')).waitFor();
    await shot(page, 'dashboard-collapsed');
    assert.deepEqual(errors, []);
  });

  test('delegator: a path shows its tree and live addresses, following the fs namer', async () => {
    const { page, errors } = await open('/delegator');
    await page.locator(`${tid('conn-status')}[data-state="live"]`).waitFor();
    await eventually(async () => (await page.locator(tid('dtab')).inputValue()) === '/svc => /#/io.l5d.fs;', 5000, "the router's dtab, one dentry a line");
    await page.locator(tid('path')).fill('/svc/web');
    await page.locator(tid('go')).click();
    const addrs = page.locator(tid('leaf-addr'));
    await eventually(async () => (await addrs.allTextContents()).join() === `127.0.0.1:${web.port}`, 5000, "the leaf's address");
    assert.equal(await page.locator(tid('leaf')).getAttribute('data-id'), '/#/io.l5d.fs/web');
    assert.match(await text(page, tid('delegation-summary')), new RegExp(`/#/io.l5d.fs/web.*127\\.0\\.0\\.1:${web.port}`));
    // The namer's file changes: the tree follows without pressing Go again.
    disco.set('web', web.port, v2.port);
    try {
      await eventually(async () => (await addrs.allTextContents()).sort().join() === [`127.0.0.1:${web.port}`, `127.0.0.1:${v2.port}`].sort().join(), 5000, 'the new address');
      assert.match(await text(page, tid('delegation-updated')), /updated/);
      await shot(page, 'delegator-live');
    } finally {
      disco.set('web', web.port);
    }
    await eventually(async () => (await addrs.count()) === 1, 5000, 'back to one address');
    assert.deepEqual(errors, []);
  });

  test('delegator: a bad dtab or a missing path is a clear message, not a blank page', async () => {
    const { page, errors } = await open('/delegator?router=http&path=/svc/web');
    await page.locator(tid('leaf-addr')).waitFor();
    await page.locator(tid('dtab')).fill('/svc => => /#/io.l5d.fs');
    await page.locator(tid('go')).click();
    await page.locator(tid('delegation-error')).waitFor();
    assert.match(await text(page, tid('delegation-error')), /dtab/i);
    await page.locator(tid('dtab-edited')).waitFor();
    await page.locator(tid('dtab-reset')).click();
    await page.locator(tid('leaf-addr')).waitFor();
    await page.locator(tid('path')).fill('');
    await page.locator(tid('go')).click();
    assert.match(await text(page, tid('delegation-error')), /Type a path/);
    // A request for a name nobody serves: the explanation says what a live request would get.
    await page.locator(tid('explain-url')).fill('http://nope/');
    await page.locator(tid('explain-go')).click();
    await page.locator(tid('explain-outcome')).waitFor();
    assert.equal(await page.locator(tid('explain-outcome')).getAttribute('data-routed'), 'false');
    assert.match(await text(page, tid('explain-outcome')), /^502/);
    assert.equal(await text(page, tid('explain-name')), '/svc/nope');
    assert.equal(await page.locator(`${tid('explain-result')} li.node-neg`).count(), 1);
    await shot(page, 'delegator-error');
    assert.deepEqual(errors, []);
  });

  test('delegator: explaining a request with an l5d-dtab header shows its name and endpoint set; the share link reproduces the view', async () => {
    const { page, errors } = await open('/delegator');
    await page.locator(`${tid('conn-status')}[data-state="live"]`).waitFor();
    await eventually(async () => (await page.locator(`${tid('router-select')} option`).count()) === 2, 5000, 'both routers listed');
    // A weighted canary in an edited dtab makes the richest tree: a union under an alt.
    await page.locator(tid('router-select')).selectOption('edge');
    await page.locator(tid('dtab')).fill(`/svc => /#/io.l5d.fs;\n/svc/web => 9 * /#/io.l5d.fs/web & 1 * /#/io.l5d.fs/web-v2 | /$/inet/127.0.0.1/${web.port};`);
    await page.locator(tid('path')).fill('/svc/web');
    await page.locator(tid('go')).click();
    await eventually(async () => (await page.locator(tid('leaf-addr')).count()) >= 2, 5000, 'both sides of the union');
    assert.equal(await page.locator('li.node-union').count(), 1);
    await page.locator(tid('explain-url')).fill('http://web/hello?x=1');
    await page.locator(tid('explain-headers')).fill('l5d-dtab: /svc/web => /#/io.l5d.fs/api');
    await page.locator(tid('explain-go')).click();
    await page.locator(tid('explain-outcome')).waitFor();
    assert.equal(await text(page, tid('explain-name')), '/svc/web');
    assert.equal(await page.locator(tid('explain-outcome')).getAttribute('data-routed'), 'true');
    assert.match(await text(page, tid('explain-outcome')), /^routed/);
    assert.match(await text(page, tid('explain-bound')), /\/#\/io\.l5d\.fs\/api/);
    assert.deepEqual(await page.locator(tid('explain-addr')).allTextContents(), [`127.0.0.1:${api.port}`]);
    await shot(page, 'delegator-explain');

    // The link carries router, edited dtab, path and the request; a fresh page replays them.
    const link = await page.locator(tid('share-link')).getAttribute('href');
    assert.ok(link !== null && link.startsWith('/delegator?'));
    const q = new URL(link, 'http://x').searchParams;
    assert.equal(q.get('router'), 'edge');
    assert.equal(q.get('path'), '/svc/web');
    assert.match(q.get('dtab') ?? '', /web-v2/);
    assert.equal(q.get('headers'), 'l5d-dtab: /svc/web => /#/io.l5d.fs/api');
    const again = await open(link);
    await eventually(async () => (await again.page.locator(tid('leaf-addr')).count()) >= 2, 5000, 'the shared tree');
    await again.page.locator(tid('explain-outcome')).waitFor();
    assert.equal(await again.page.locator(tid('router-select')).inputValue(), 'edge');
    assert.equal(await again.page.locator(tid('dtab')).inputValue(), await page.locator(tid('dtab')).inputValue());
    assert.equal(await again.page.locator(tid('path')).inputValue(), '/svc/web');
    assert.equal(await text(again.page, tid('explain-name')), '/svc/web');
    assert.ok(await again.page.locator(tid('dtab-edited')).isVisible());
    await shot(again.page, 'delegator', true);
    assert.deepEqual([...errors, ...again.errors], []);
  });

  // Last: it replaces the daemon the other tests use.
  test('dashboard: after the daemon restarts on the same admin port, the page reconnects and shows data again', async () => {
    // The page open since the start has the longest history: it makes the published screenshot.
    const { page, errors } = watcher;
    await page.evaluate('window.scrollTo(0, 0)');
    await shot(page, 'dashboard', true);
    assert.deepEqual(errors, []);
    await page.locator(`${tid('conn-status')}[data-state="live"]`).waitFor();
    await eventually(async () => count(await text(page, tid('router-rps-http'))) > 0, 5000, 'traffic before');
    const adminPort = d.adminPort;
    await d.close();
    await page.locator(`${tid('conn-status')}[data-state="reconnecting"]`).waitFor();
    assert.match((await page.locator('body').getAttribute('class')) ?? '', /stale/);
    d = await startDaemon(config(adminPort));
    await page.locator(`${tid('conn-status')}[data-state="live"]`).waitFor({ timeout: 8000 });
    // The new daemon's counters start from zero: the page reads that as a restart, not as negative traffic.
    const before = Number(await page.locator(tid('router-chart-http')).getAttribute('data-points'));
    await eventually(async () => Number(await page.locator(tid('router-chart-http')).getAttribute('data-points')) >= before + 2, 5000, 'new samples');
    await eventually(async () => count(await text(page, tid('router-rps-http'))) > 0, 5000, 'traffic after');
    assert.doesNotMatch(await text(page, tid('router-rps-http')), /-/);
    assert.doesNotMatch((await page.locator('body').getAttribute('class')) ?? '', /stale/);
    await shot(page, 'dashboard-reconnected');
  });
});

// The dashboard at scale, in headless Chromium: one daemon with three routers over the same
// io.l5d.fs folder, 400 names all served by one upstream, and one request per name through
// router `a`, so that `a` has 400 services and 400 clients. The page must show them all, filter
// them, collapse and expand the router, and stay responsive (no long main-thread task) while
// the once-a-second pushes of all those rows arrive. A screenshot goes to .artifacts/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium, openPage, textOf, tid } from '../support/browser.ts';
import { Disco, eventually, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

const NAMES = 400;
const CONCURRENCY = 50;
/** The longest main-thread task allowed once the page has drawn its rows. */
const LONG_TASK_MS = 200;

/** Runs `f` over `items`, at most `limit` at a time. */
async function bounded<T>(items: readonly T[], limit: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await f(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

// Runs in the page before its own scripts: every long task (over 50 ms, Chromium's threshold)
// is kept with its start and duration, on the page's clock (performance.now()).
const LONGTASK_OBSERVER = `
window.__longtasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, duration: e.duration });
}).observe({ type: 'longtask', buffered: true });
`;

describe('admin UI at scale: 3 routers, 400 clients', () => {
  const disco = new Disco();
  let up: Upstream;
  let d: RunningDaemon;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** The page's console errors and uncaught exceptions. */
  let errors: string[] = [];
  const names = Array.from({ length: NAMES }, (_, i) => `s${i}`);

  const config = `admin: {ip: 127.0.0.1, port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${disco.dir}
routers:
${['a', 'b', 'c']
  .map(
    (label) => `- protocol: http
  label: ${label}
  dtab: /svc => /#/io.l5d.fs
  servers: [{port: 0}]
`,
  )
  .join('')}`;

  const text = (selector: string): Promise<string> => textOf(page, selector);
  const rowsOf = (router: string, kind: 'service' | 'client'): string => `${tid(`router-${router}`)} ${tid(`${kind}-row`)}`;
  const countOf = (router: string, kind: 'services' | 'clients'): string => `${tid(`router-${router}`)} ${tid(`group-${kind}`)} ${tid(`${kind}-count`)}`;
  const points = async (): Promise<number> => Number(await page.locator(tid('router-chart-a')).getAttribute('data-points'));

  /** Long tasks (over 50 ms, Chromium's threshold) that started at or after `since` (page clock). */
  async function longTasks(since = 0): Promise<{ start: number; duration: number }[]> {
    const all = (await page.evaluate('window.__longtasks')) as { start: number; duration: number }[];
    return all.filter((t) => t.start >= since);
  }
  const longest = (tasks: { duration: number }[]): number => Math.round(Math.max(0, ...tasks.map((t) => t.duration)));
  const now = async (): Promise<number> => (await page.evaluate('performance.now()')) as number;

  async function get(port: number, host: string): Promise<void> {
    const r = await send(port, { headers: { host } });
    assert.equal(r.status, 200, `${host}: ${r.status} ${r.body}`);
    assert.equal(r.body, 'up');
  }

  before(async () => {
    up = await upstream('up');
    for (const n of names) disco.set(n, up.port);
    [d, browser] = await Promise.all([startDaemon(config), launchChromium()]);
    // One request per name through `a`; a few through `b` and `c`, so every router has rows.
    await bounded(names, CONCURRENCY, (n) => get(d.port('a'), n));
    await Promise.all(['b', 'c'].flatMap((r) => names.slice(0, 3).map((n) => get(d.port(r), n))));
    ({ context, page, errors } = await openPage(browser, `http://127.0.0.1:${d.adminPort}/`, LONGTASK_OBSERVER));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await d?.close();
    await up?.close();
    disco.close();
  });

  test('router a shows 400 services and 400 clients; b and c show theirs', async () => {
    await page.locator(`${tid('conn-status')}[data-state="live"]`).waitFor();
    for (const r of ['a', 'b', 'c']) await page.locator(tid(`router-${r}`)).waitFor();
    await eventually(async () => (await text(countOf('a', 'clients'))) === `(${NAMES})`, 5000, `router a's clients count (${NAMES})`);
    assert.equal(await text(countOf('a', 'services')), `(${NAMES})`);
    // Rows are not virtualised: every one is in the DOM (only on-screen ones are redrawn).
    assert.equal(await page.locator(rowsOf('a', 'client')).count(), NAMES);
    assert.equal(await page.locator(rowsOf('a', 'service')).count(), NAMES);
    assert.equal(await page.locator(`${rowsOf('a', 'client')}[data-name="#/io.l5d.fs/s399"]`).count(), 1);
    for (const r of ['b', 'c']) {
      await eventually(async () => (await text(countOf(r, 'clients'))) === '(3)', 5000, `router ${r}'s clients`);
      assert.equal(await text(countOf(r, 'services')), '(3)');
    }
    // Only rows on (or near) the screen are drawn; one scrolled into view catches up at once.
    const first = page.locator(`${rowsOf('a', 'client')}[data-name="#/io.l5d.fs/s0"]`);
    await first.scrollIntoViewIfNeeded();
    await eventually(async () => (await first.locator('[data-col="extra"]').textContent()) === '1/1 endpoints', 5000, 'the first client row drawn');
    await page.evaluate('window.scrollTo(0, 0)');
    assert.deepEqual(errors, []);
  });

  test('the page stays responsive while pushes of 800 rows arrive', async () => {
    // From now on (the rows are drawn), over three pushes, with a little traffic through `a`.
    const mark = await now();
    const before = await points();
    let stop = false;
    const traffic = bounded([0, 1, 2, 3, 4], 5, async (w) => {
      for (let i = w; !stop; i += 5) {
        await get(d.port('a'), names[(i * 37) % NAMES]!);
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    try {
      await eventually(async () => (await points()) >= before + 3, 6000, 'three pushes drawn');
    } finally {
      stop = true;
      await traffic;
    }
    const during = await longTasks(mark);
    const max = longest(during);
    const first = longest(await longTasks(0));
    console.log(`# longtasks during pushes: ${during.length} over 50 ms, longest ${max} ms; longest before, at the first render: ${first} ms`);
    assert.ok(max <= LONG_TASK_MS, `longest main-thread task during pushes ${max} ms (limit ${LONG_TASK_MS} ms); all: ${JSON.stringify(during.map((t) => Math.round(t.duration)))}`);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-scale.png` });
    assert.deepEqual(errors, []);
  });

  test('typing s123 in the search box leaves only s123 rows', async () => {
    const mark = await now();
    const search = page.locator(tid('search'));
    await search.click();
    await search.pressSequentially('s123');
    assert.equal(await search.inputValue(), 's123');
    const visible = async (kind: 'service' | 'client'): Promise<string[]> =>
      page.locator(`${tid(`${kind}-row`)}:visible`).evaluateAll((els) => els.map((e) => e.getAttribute('data-name') ?? ''));
    await eventually(async () => (await visible('client')).length === 1 && (await visible('service')).length === 1, 3000, 'one service and one client left');
    assert.deepEqual(await visible('client'), ['#/io.l5d.fs/s123']);
    assert.deepEqual(await visible('service'), ['svc/s123']);
    assert.equal(await text(countOf('a', 'clients')), `(1 of ${NAMES})`);
    assert.equal(await text(countOf('a', 'services')), `(1 of ${NAMES})`);
    assert.match(page.url(), /[?&]q=s123/);
    // Routers without a match say so.
    assert.equal(await text(countOf('b', 'clients')), '(0 of 3)');
    await search.fill('');
    await eventually(async () => (await page.locator(`${rowsOf('a', 'client')}:visible`).count()) === NAMES, 3000, 'all clients back');
    assert.equal(await page.locator(`${rowsOf('a', 'service')}:visible`).count(), NAMES);
    assert.equal(await text(countOf('a', 'clients')), `(${NAMES})`);
    console.log(`# longest task while filtering and clearing: ${longest(await longTasks(mark))} ms`);
    assert.deepEqual(errors, []);
  });

  test('router a collapses and expands', async () => {
    const mark = await now();
    const section = page.locator(tid('router-a'));
    await page.locator(tid('router-toggle-a')).click();
    assert.match((await section.getAttribute('class')) ?? '', /collapsed/);
    assert.equal(await page.locator(tid('router-chart-a')).count(), 0, 'a collapsed router has no charts');
    assert.equal(await page.locator(`${rowsOf('a', 'client')}:visible`).count(), 0);
    assert.equal(await page.locator(`${rowsOf('a', 'service')}:visible`).count(), 0);
    // Its header numbers stay live while collapsed; the other routers are untouched.
    assert.notEqual(await text(tid('router-requests-a')), '–');
    assert.equal(await page.locator(`${rowsOf('b', 'client')}:visible`).count(), 3);
    await page.locator(tid('router-toggle-a')).click();
    assert.doesNotMatch((await section.getAttribute('class')) ?? '', /collapsed/);
    await page.locator(tid('router-chart-a')).waitFor();
    await eventually(async () => (await page.locator(`${rowsOf('a', 'client')}:visible`).count()) === NAMES, 3000, 'the clients shown again');
    assert.equal(await text(countOf('a', 'clients')), `(${NAMES})`);
    const p = await points();
    await eventually(async () => (await points()) > p, 3000, 'the chart of a updating again');
    console.log(`# longest task while collapsing and expanding: ${longest(await longTasks(mark))} ms`);
    assert.deepEqual(errors, []);
  });
});

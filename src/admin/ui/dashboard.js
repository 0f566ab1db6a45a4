// The dashboard (`/`): process facts, then one section per router with its totals, a combined
// chart, and its servers, services and clients. Everything is computed here from the
// cumulative counters the server pushes once a second over /admin/ws (see `Meter`).
// Charts are uPlot (window.uPlot, loaded by a classic script before this module).
// The rows of servers, services and clients are views.js; the router sections are here.

import { Feed, fetchJson, fmtBytes, fmtCount, fmtDuration, fmtMs, fmtPct, fmtRate, h, History, isNum, num, renderHeader, setText, TimeChart } from './common.js';
import { clickable, filter, GroupView, setUi, srClass, ui } from './views.js';

const KINDS = [
  ['servers', 'Servers', 'server'],
  ['services', 'Services', 'service'],
  ['clients', 'Clients', 'client'],
];

const params = new URLSearchParams(location.search);
const state = { routers: new Map(), intervalMs: 1000, only: params.get('router') ?? '', info: new Map() };
filter.text = (params.get('q') ?? '').toLowerCase();

// === Router sections ===

function stat(label, testid) {
  const v = h('span', { class: 'v', 'data-testid': testid }, '–');
  return { el: h('div', { class: 'stat' }, h('span', { class: 'k' }, label), v), v };
}

/** A router: header numbers (always live, even collapsed), combined charts, and its groups. */
class RouterView {
  constructor(label) {
    this.label = label;
    this.key = `r:${label}`;
    this.hist = new History();
    this.retryBudget = 20;
    this.charts = [];
    this.stats = {
      rps: stat('req/s', `router-rps-${label}`),
      requests: stat('requests', `router-requests-${label}`),
      sr: stat('success', `router-sr-${label}`),
      p50: stat('p50', `router-p50-${label}`),
      p95: stat('p95', `router-p95-${label}`),
      p99: stat('p99', `router-p99-${label}`),
    };
    this.proto = h('span', { class: 'proto' });
    this.retryText = h('span', { class: 'v', 'data-testid': `router-retries-${label}` }, '–');
    this.retryFill = h('div', { class: 'fill', style: { width: '0%' } });
    this.retryMark = h('div', { class: 'mark' });
    const budget = h('div', { class: 'stat budget', title: 'retries and requeues as a share of requests, against the retry budget' }, h('span', { class: 'k' }, 'retries vs budget'), this.retryText, h('div', { class: 'bar' }, this.retryFill, this.retryMark));
    this.groups = KINDS.map(([kind, title, row]) => new GroupView(this, kind, title, `${row}-row`));
    this.chartBox = h('div', { class: 'charts' });
    this.body = h('div', { class: 'router-body' }, this.chartBox, this.groups.map((g) => g.el));
    this.el = h(
      'section',
      { class: 'router', 'data-testid': `router-${label}`, 'data-router': label },
      h('header', { 'data-testid': `router-toggle-${label}`, ...clickable(() => this.setCollapsed(!this.collapsed, true)) }, h('h2', {}, h('span', { class: 'caret' }, '▾'), ' ', label, this.proto), Object.values(this.stats).map((s) => s.el), budget),
      this.body,
    );
    this.setCollapsed(Boolean(ui[this.key]), false);
  }

  setCollapsed(on, keep) {
    this.collapsed = on;
    this.el.classList.toggle('collapsed', on);
    if (keep) setUi(this.key, on);
    if (on) {
      for (const c of this.charts) c.destroy();
      this.charts = [];
      this.chartBox.replaceChildren();
    } else if (this.charts.length === 0) {
      const a = h('div', { class: 'chart', 'data-testid': `router-chart-${this.label}` });
      const b = h('div', { class: 'chart', 'data-testid': `router-latency-chart-${this.label}` });
      this.chartBox.replaceChildren(a, b);
      this.charts = [new TimeChart(a, 'traffic', 170, 'all servers'), new TimeChart(b, 'latency', 170, 'all servers')];
      this.render();
    }
  }

  /** Folds one metrics message for this router into every entity and the router totals. */
  update(t, m, gapMs) {
    if (isNum(m.retryBudgetPercent)) this.retryBudget = m.retryBudgetPercent;
    // Router totals: traffic is what its servers took in; retries (services) and requeues
    // (clients) are counted against logical requests (services), or incoming ones.
    const sum = { dt: 0, req: 0, ok: 0, fail: 0, retry: 0, base: 0 };
    const lat = {};
    for (const g of this.groups) {
      const entries = m[g.kind] && typeof m[g.kind] === 'object' ? Object.entries(m[g.kind]) : [];
      for (const [name, s] of entries) {
        if (s === null || typeof s !== 'object') continue;
        const d = g.entity(name).update(t, s, gapMs);
        if (g.kind === 'servers') {
          // The router's latency is its worst server's: one slow listener should show.
          for (const k of ['p50', 'p95', 'p99']) if (isNum(s.latency?.[k])) lat[k] = Math.max(lat[k] ?? 0, s.latency[k]);
          if (d === null) continue;
          sum.dt = d.dt;
          for (const k of ['req', 'ok', 'fail']) sum[k] += d[k];
        } else if (d !== null) {
          sum.retry += d.retry;
          if (g.kind === 'services') sum.base += d.req;
        }
      }
      g.prune(t);
    }
    this.hist.push(t, sum.dt > 0 ? sum : null, lat, gapMs);
  }

  render() {
    const s = this.stats;
    setText(s.rps.v, fmtRate(this.hist.lastRps));
    const sr = this.hist.lastSr();
    setText(s.sr.v, fmtPct(sr));
    s.sr.v.className = `v ${srClass(sr)}`;
    for (const k of ['p50', 'p95', 'p99']) setText(s[k].v, fmtMs(this.hist[k].at(-1)));
    const servers = this.groups[0].items;
    setText(s.requests.v, fmtCount([...servers.values()].reduce((a, e) => a + num(e.last.requests), 0)));
    const share = this.hist.retryShare();
    const budget = this.retryBudget / 100;
    setText(this.retryText, `${fmtPct(share, 1)} of ${fmtPct(budget, 0)}`);
    // The bar spans twice the budget, so the budget marker sits in the middle.
    const scale = Math.max(budget * 2, 0.01);
    this.retryFill.style.width = `${Math.min(100, ((share ?? 0) / scale) * 100)}%`;
    this.retryFill.className = `fill ${share === null || share < budget * 0.5 ? '' : share < budget ? 'warn' : 'bad'}`;
    this.retryMark.style.left = `${(budget / scale) * 100}%`;
    const info = state.info.get(this.label);
    // Listen addresses come from the live server scopes: they carry the bound port.
    setText(this.proto, [info?.protocol, ...servers.keys()].filter(Boolean).join(' · '));
    if (this.collapsed) return;
    for (const c of this.charts) c.update(this.hist);
    for (const g of this.groups) g.render();
  }
}

// === Page ===

const statusEl = renderHeader();
const routersEl = document.getElementById('routers');
const pick = document.getElementById('router-pick');
const search = document.getElementById('search');

/** The process facts' value elements (dashboard.html), by `data-fact`. */
const facts = Object.fromEntries([...document.querySelectorAll('[data-fact]')].map((el) => [el.dataset.fact, el]));

function router(label) {
  let r = state.routers.get(label);
  if (r === undefined) {
    r = new RouterView(label);
    state.routers.set(label, r);
    routersEl.append(r.el);
    pick.append(h('option', { value: label, selected: label === state.only }, label));
    r.el.hidden = state.only !== '' && state.only !== label;
    document.getElementById('no-routers').hidden = true;
  }
  return r;
}

function renderProcess(p, t) {
  p ??= {};
  setText(facts.version, p.version ?? '–');
  setText(facts.uptime, fmtDuration(p.uptimeMs));
  setText(facts.rss, fmtBytes(p.rssBytes));
  setText(facts.heap, fmtBytes(p.heapUsedBytes));
  setText(facts.loop, fmtMs(p.eventLoopP99Ms));
  setText(facts.gc, fmtMs(p.gcMs));
  let rps = 0;
  let pending = 0;
  let conns = 0;
  for (const r of state.routers.values()) {
    rps += num(r.hist.lastRps);
    for (const e of r.groups[0].items.values()) {
      if (e.seen !== t) continue; // a server of a previous daemon does not count
      pending += num(e.last.pending);
      conns += num(e.last.connections);
    }
  }
  setText(facts.rps, fmtRate(rps));
  setText(facts.pending, fmtCount(pending));
  setText(facts.conns, fmtCount(conns));
}

function onMessage(msg) {
  if (msg.type === 'hello') {
    if (isNum(msg.intervalMs) && msg.intervalMs > 0) state.intervalMs = msg.intervalMs;
    for (const label of Array.isArray(msg.routers) ? msg.routers : []) router(String(label));
    if (msg.version) setText(facts.version, String(msg.version));
  } else if (msg.type === 'metrics') {
    const t = isNum(msg.t) ? msg.t : Date.now();
    const gapMs = Math.max(3 * state.intervalMs, 2500);
    const routers = msg.routers && typeof msg.routers === 'object' ? msg.routers : {};
    for (const [label, m] of Object.entries(routers)) if (m && typeof m === 'object') router(label).update(t, m, gapMs);
    for (const r of state.routers.values()) if (!r.el.hidden) r.render();
    renderProcess(msg.process, t);
  }
}

function syncUrl() {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of [['router', state.only], ['q', filter.text]]) v === '' ? q.delete(k) : q.set(k, v);
  const s = q.toString();
  history.replaceState(null, '', s === '' ? location.pathname : `?${s}`);
}

search.value = params.get('q') ?? '';
search.addEventListener('input', () => {
  filter.text = search.value.trim().toLowerCase();
  for (const r of state.routers.values()) if (!r.collapsed) for (const g of r.groups) g.render();
  syncUrl();
});
pick.addEventListener('change', () => {
  state.only = pick.value;
  for (const r of state.routers.values()) {
    r.el.hidden = state.only !== '' && state.only !== r.label;
    if (!r.el.hidden) r.render();
  }
  syncUrl();
});
for (const [id, on] of [['collapse-all', true], ['expand-all', false]]) {
  document.getElementById(id).addEventListener('click', () => {
    for (const r of state.routers.values()) {
      r.setCollapsed(on, true);
      for (const g of r.groups) g.setCollapsed(on, true);
      r.render();
    }
  });
}

// Protocols and listeners are static facts: one fetch is enough, and the page works without it.
fetchJson('/routers.json').then(
  (list) => {
    for (const info of Array.isArray(list) ? list : []) {
      if (typeof info?.label !== 'string') continue;
      state.info.set(info.label, info);
      router(info.label).render();
    }
  },
  () => {},
);

new Feed({
  statusEl,
  onMessage,
  onState: (s) => document.body.classList.toggle('stale', s !== 'live'),
});
document.getElementById('no-routers').hidden = state.routers.size > 0;

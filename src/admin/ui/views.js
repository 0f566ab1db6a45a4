// The dashboard's rows: one per server, service or client, in a collapsible group per kind.
// What is collapsed or expanded is kept in localStorage, shared with the router sections.

import { fmtCount, fmtMs, fmtPct, fmtRate, h, History, isNum, Meter, setText, TimeChart } from './common.js';

/** An entity missing from the feed this long (an evicted client) loses its row. */
const GONE_MS = 60_000;

/** The name filter (the search box, lower case): the page sets it, the groups hide rows that do not match. */
export const filter = { text: '' };

// === UI state (kept across reloads) ===

const STORE = 'dtabd.dashboard.v1';
/** Keys: `r:<router>` collapsed router, `g:<router>:<kind>` collapsed group, `x:<router>:<kind>:<name>` expanded row. */
export const ui = (() => {
  try {
    return JSON.parse(localStorage.getItem(STORE) ?? '{}') ?? {};
  } catch {
    return {};
  }
})();
export function setUi(key, on) {
  if (on) ui[key] = true;
  else delete ui[key];
  try {
    localStorage.setItem(STORE, JSON.stringify(ui));
  } catch {
    // storage full or disabled: the state simply is not kept
  }
}

// === Rows and groups ===

export const srClass = (sr) => (!isNum(sr) ? '' : sr >= 0.99 ? 'sr-good' : sr >= 0.95 ? 'sr-warn' : 'sr-bad');

/** Attributes that make an element act as a button, by mouse and by keyboard (Enter, Space). */
export function clickable(handler) {
  const onkeydown = (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();
    handler();
  };
  return { role: 'button', tabindex: '0', onclick: handler, onkeydown };
}

/**
 * Rows are only redrawn while on screen (or near it): with a thousand clients, the numbers
 * nobody can see cost nothing, and a row scrolled into view catches up at once.
 */
const onScreen = new IntersectionObserver(
  (entries) => {
    for (const en of entries) {
      const view = en.target.view;
      view.onScreen = en.isIntersecting;
      if (view.onScreen) view.render();
    }
  },
  { rootMargin: '300px 0px' },
);

/** One server, service or client: a row of numbers, and charts once expanded. */
class EntityView {
  constructor(router, kind, rowTestid, name) {
    this.router = router;
    this.kind = kind;
    this.name = name;
    this.key = `x:${router.label}:${kind}:${name}`;
    this.meter = new Meter({ services: 'retries', clients: 'requeues' }[kind]);
    this.hist = new History();
    this.last = {};
    this.seen = 0;
    this.charts = [];
    this.cells = {};
    const cell = (k) => (this.cells[k] = h('span', { 'data-col': k }, '–'));
    this.row = h(
      'div',
      { class: 'row', 'data-testid': rowTestid, 'data-name': name, 'aria-expanded': 'false', title: name, ...clickable(() => this.toggle()) },
      h('span', { class: 'caret' }, '▾'),
      h('span', { class: 'name' }, name),
      ['rps', 'sr', 'p50', 'p95', 'p99', 'pending', 'extra'].map(cell),
    );
    this.detail = h('div', { class: 'row-detail', hidden: true });
    this.onScreen = false;
    this.row.view = this;
    onScreen.observe(this.row);
    if (ui[this.key]) this.setExpanded(true);
  }

  update(t, s, gapMs) {
    this.seen = t;
    this.last = s;
    const d = this.meter.step(t, s);
    this.hist.push(t, d, s.latency, gapMs);
    return d;
  }

  toggle() {
    this.setExpanded(!this.expanded);
    setUi(this.key, this.expanded);
  }

  setExpanded(on) {
    this.expanded = on;
    this.row.classList.toggle('expanded', on);
    this.row.setAttribute('aria-expanded', String(on));
    this.detail.hidden = !on;
    if (on && this.charts.length === 0) {
      const a = h('div', { class: 'chart', 'data-testid': 'row-chart' });
      const b = h('div', { class: 'chart', 'data-testid': 'row-latency-chart' });
      this.detail.replaceChildren(h('div', { class: 'charts' }, a, b));
      this.charts = [new TimeChart(a, 'traffic', 120), new TimeChart(b, 'latency', 120)];
      this.render();
    } else if (!on) {
      // Charts of collapsed rows are destroyed: hundreds of clients must not mean hundreds of canvases.
      for (const c of this.charts) c.destroy();
      this.charts = [];
      this.detail.replaceChildren();
    }
  }

  matches(filter) {
    return filter === '' || this.name.toLowerCase().includes(filter);
  }

  render() {
    const s = this.last;
    const lat = s.latency ?? {};
    const sr = this.hist.lastSr();
    setText(this.cells.rps, fmtRate(this.hist.lastRps));
    setText(this.cells.sr, fmtPct(sr));
    this.cells.sr.className = srClass(sr);
    for (const k of ['p50', 'p95', 'p99']) setText(this.cells[k], fmtMs(lat[k]));
    setText(this.cells.pending, fmtCount(s.pending));
    if (this.kind === 'servers') setText(this.cells.extra, `${fmtCount(s.connections)} conn`);
    else if (this.kind === 'services') setText(this.cells.extra, fmtPct(this.hist.retryShare(), 1));
    else {
      const avail = s.lbAvailable;
      setText(this.cells.extra, isNum(avail) || isNum(s.lbSize) ? `${fmtCount(avail)}/${fmtCount(s.lbSize)} endpoints` : '–');
      this.cells.extra.className = isNum(avail) && avail === 0 ? 'avail-bad' : '';
    }
    this.row.classList.toggle('idle', this.hist.idle());
    for (const c of this.charts) c.update(this.hist);
  }

  destroy() {
    onScreen.unobserve(this.row);
    for (const c of this.charts) c.destroy();
    this.row.remove();
    this.detail.remove();
  }
}

/** A collapsible list of one kind of entity within a router. */
export class GroupView {
  constructor(router, kind, title, rowTestid) {
    this.router = router;
    this.kind = kind;
    this.rowTestid = rowTestid;
    this.key = `g:${router.label}:${kind}`;
    this.items = new Map();
    this.count = h('span', { class: 'count', 'data-testid': `${kind}-count` });
    this.noMatch = h('div', { class: 'no-match' }, 'nothing yet');
    const heads = ['', kind.slice(0, -1), 'req/s', 'success', 'p50', 'p95', 'p99', 'pending', { servers: 'connections', services: 'retries', clients: 'endpoints' }[kind]];
    this.rows = h('div', { class: 'rows' }, h('div', { class: 'row-head' }, heads.map((t) => h('span', {}, t))), this.noMatch);
    this.el = h(
      'div',
      { class: 'group', 'data-testid': `group-${kind}` },
      h('div', { class: 'group-head', ...clickable(() => this.setCollapsed(!this.collapsed, true)) }, h('span', { class: 'caret' }, '▾'), title, this.count),
      this.rows,
    );
    this.setCollapsed(Boolean(ui[this.key]), false);
  }

  setCollapsed(on, keep) {
    this.collapsed = on;
    this.el.classList.toggle('collapsed', on);
    if (keep) setUi(this.key, on);
    if (!on) this.render();
  }

  entity(name) {
    let e = this.items.get(name);
    if (e === undefined) {
      e = new EntityView(this.router, this.kind, this.rowTestid, name);
      this.items.set(name, e);
      // Rows stay sorted by name so they do not jump around as traffic changes.
      let after;
      for (const o of this.items.values()) if (o.name > name && (after === undefined || o.name < after.name)) after = o;
      this.rows.insertBefore(e.row, after?.row ?? this.noMatch);
      this.rows.insertBefore(e.detail, after?.row ?? this.noMatch);
    }
    return e;
  }

  prune(now) {
    for (const [name, e] of this.items) {
      if (now - e.seen > GONE_MS) {
        e.destroy();
        this.items.delete(name);
      }
    }
  }

  render() {
    let shown = 0;
    for (const e of this.items.values()) {
      const visible = e.matches(filter.text);
      e.row.hidden = !visible;
      e.detail.hidden = !visible || !e.expanded;
      if (!visible) continue;
      shown++;
      if (!this.collapsed && (e.onScreen || e.expanded)) e.render();
    }
    const total = this.items.size;
    setText(this.count, filter.text === '' || total === 0 ? `(${total})` : `(${shown} of ${total})`);
    this.noMatch.hidden = shown > 0;
    setText(this.noMatch, total === 0 ? 'nothing yet' : 'no name matches the filter');
  }
}

// Helpers shared by the admin pages: DOM building, number formatting, the feed's status badge,
// JSON fetching, and the live feed (the /admin/ws WebSocket, reconnected after a daemon restart).

/**
 * Builds an element. `attrs` keys starting with `on` become listeners, `dataset`/`style`
 * objects are merged, everything else is an attribute (`true` = present, `false`/null = absent).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'className') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Sets an element's text only when it changed: most metrics are steady, and DOM writes are not free. */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

/** A number from the feed, or 0 when it is missing (a counter left out because it is 0). */
export const num = (v) => (isNum(v) ? v : 0);

/** Requests per second: more digits when small, so a trickle of traffic does not read as zero. */
export function fmtRate(v) {
  if (!isNum(v)) return '–';
  if (v === 0) return '0';
  if (v < 9.95) return v.toFixed(1);
  if (v < 10_000) return Math.round(v).toLocaleString('en-US');
  return `${(v / 1000).toFixed(1)}k`;
}

/** A ratio (0..1) as a percentage; success rates need two decimals near 100%. */
export function fmtPct(ratio, digits = 2) {
  if (!isNum(ratio)) return '–';
  const p = ratio * 100;
  return `${p === 100 || p === 0 ? p.toFixed(0) : p.toFixed(digits)}%`;
}

export function fmtMs(v) {
  if (!isNum(v)) return '–';
  if (v === 0) return '0';
  if (v >= 10_000) return `${(v / 1000).toFixed(0)} s`;
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  if (v >= 10) return `${Math.round(v)} ms`;
  return `${v.toFixed(v >= 1 ? 1 : 2)} ms`;
}

export function fmtBytes(v) {
  if (!isNum(v)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 || v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function fmtCount(v) {
  return isNum(v) ? Math.round(v).toLocaleString('en-US') : '–';
}

/** An uptime such as `3d 4h`, `2h 05m`, `4m 09s`: two units are enough to read at a glance. */
export function fmtDuration(ms) {
  if (!isNum(ms) || ms < 0) return '–';
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const two = (n) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d ${hh}h`;
  if (hh > 0) return `${hh}h ${two(mm)}m`;
  if (mm > 0) return `${mm}m ${two(ss)}s`;
  return `${ss}s`;
}

export function fmtTime(t) {
  return new Date(t).toLocaleTimeString('en-GB', { hour12: false });
}

/**
 * Adds the feed's status badge to the page's `<header id="top">` (the server has put the brand
 * and the nav in it, as on every admin page) and returns it, so the feed can drive it.
 */
export function renderHeader() {
  const status = h('span', { class: 'conn', 'data-testid': 'conn-status', 'data-state': 'connecting', role: 'status' }, 'connecting…');
  document.getElementById('top').append(h('span', { class: 'spacer' }), status);
  return status;
}

/**
 * Fetches JSON; a non-2xx answer throws an Error carrying the server's own text (such as
 * `Invalid dtab: ...`), because that text is what the operator needs to read.
 */
export async function fetchJson(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) {
    const err = new Error(text.trim() || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${url}: the answer is not JSON`);
  }
}

/**
 * The live feed: one WebSocket to /admin/ws, reopened with backoff (0.5 s doubling to 5 s)
 * whenever it closes, as it does when the daemon restarts. `onMessage` gets parsed frames;
 * `onOpen` runs after every (re)connection so callers can resubscribe.
 */
export class Feed {
  #ws = null;
  #delay = 500;
  #timer = 0;
  #statusEl;
  #onMessage;
  #onOpen;
  #onState;

  constructor({ statusEl, onMessage, onOpen = () => {}, onState = () => {} }) {
    this.#statusEl = statusEl;
    this.#onMessage = onMessage;
    this.#onOpen = onOpen;
    this.#onState = onState;
    this.#connect();
  }

  get open() {
    return this.#ws !== null && this.#ws.readyState === WebSocket.OPEN;
  }

  /** Sends a message now; returns false when the socket is down (the caller resends on open). */
  send(msg) {
    if (!this.open) return false;
    this.#ws.send(JSON.stringify(msg));
    return true;
  }

  #connect() {
    this.#setState('connecting', 'connecting…');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    let ws;
    try {
      ws = new WebSocket(`${scheme}://${location.host}/admin/ws`);
    } catch {
      this.#retry();
      return;
    }
    this.#ws = ws;
    ws.addEventListener('open', () => {
      this.#delay = 500;
      this.#setState('live', 'live');
      this.#onOpen();
    });
    ws.addEventListener('message', (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // a frame we cannot read is skipped, not fatal
      }
      if (msg !== null && typeof msg === 'object') this.#onMessage(msg);
    });
    // `error` is always followed by `close`, so only `close` schedules the retry.
    ws.addEventListener('close', () => {
      if (this.#ws === ws) this.#retry();
    });
  }

  #retry() {
    this.#ws = null;
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, 5000);
    this.#setState('reconnecting', `disconnected: reconnecting in ${(delay / 1000).toFixed(1)} s`);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #setState(state, text) {
    this.#statusEl.dataset.state = state;
    this.#statusEl.textContent = text;
    this.#onState(state);
  }
}

// === Time series (the dashboard's model) ===

const HISTORY_MS = 5 * 60_000;
/** Samples over which retry shares are averaged: one second of retries is too jumpy to read. */
const RETRY_WINDOW = 10;

/**
 * Turns one entity's cumulative counters into per-interval deltas. A counter that went down
 * means the daemon restarted: the new value is read as counted from zero, never as negative.
 */
export class Meter {
  prev = null;
  /** `retryKey`: the counter that counts retries here (services: `retries`, clients: `requeues`). */
  constructor(retryKey) {
    this.retryKey = retryKey;
  }

  step(t, s) {
    const cur = { t, req: num(s.requests), ok: num(s.success), fail: num(s.failures), retry: this.retryKey ? num(s[this.retryKey]) : 0 };
    const p = this.prev;
    this.prev = cur;
    if (p === null || t <= p.t) return null;
    const d = (k) => (cur[k] >= p[k] ? cur[k] - p[k] : cur[k]);
    return { dt: (t - p.t) / 1000, req: d('req'), ok: d('ok'), fail: d('fail'), retry: d('retry') };
  }
}

/** The last five minutes of one thing, as the column arrays uPlot draws. */
export class History {
  t = [];
  rps = [];
  sr = [];
  p50 = [];
  p95 = [];
  p99 = [];
  win = []; // recent {req, retry} deltas for the retry share

  push(t, d, lat, gapMs) {
    // A hole in the feed (a disconnect) is drawn as a gap rather than a straight line across it.
    const lastT = this.t.at(-1);
    if (lastT !== undefined && t - lastT > gapMs) this.#add(lastT + 1, null, null, {});
    const rps = d === null ? null : d.req / d.dt;
    const sr = d === null || d.ok + d.fail === 0 ? null : d.ok / (d.ok + d.fail);
    this.#add(t, rps, sr, lat);
    if (d !== null) {
      // `base` (when given and not zero) is what retries are counted against; by default the requests.
      this.win.push({ req: d.base || d.req, retry: d.retry });
      if (this.win.length > RETRY_WINDOW) this.win.shift();
    }
    while (this.t.length > 0 && this.t[0] < t - HISTORY_MS) for (const k of ['t', 'rps', 'sr', 'p50', 'p95', 'p99']) this[k].shift();
  }

  #add(t, rps, sr, lat) {
    this.t.push(t);
    this.rps.push(rps);
    this.sr.push(sr === null ? null : sr * 100);
    for (const k of ['p50', 'p95', 'p99']) this[k].push(isNum(lat?.[k]) ? lat[k] : null);
  }

  get lastRps() {
    return this.rps.at(-1) ?? null;
  }

  /** Success rate over the retry window, so one quiet second does not blank the number. */
  lastSr() {
    for (let i = this.sr.length - 1; i >= Math.max(0, this.sr.length - RETRY_WINDOW); i--) if (this.sr[i] !== null) return this.sr[i] / 100;
    return null;
  }

  retryShare() {
    let req = 0;
    let retry = 0;
    for (const w of this.win) {
      req += w.req;
      retry += w.retry;
    }
    return req > 0 ? retry / req : null;
  }

  idle() {
    return this.rps.slice(-RETRY_WINDOW).every((v) => v === null || v === 0);
  }
}

// === Charts ===

const COLORS = { rps: '#2f6fde', sr: '#1f9d55', p50: '#7d8ea8', p95: '#e0a100', p99: '#d64040' };

function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

const fmtClock = (sec) => new Date(sec * 1000).toLocaleTimeString('en-GB', { hour12: false });

function chartOptions(kind, width, height) {
  const muted = cssVar('--muted', '#687385');
  const grid = { stroke: cssVar('--line', '#dde2e8'), width: 1 };
  const axis = (extra) => ({ stroke: muted, grid, ticks: { show: false }, font: '11px system-ui, sans-serif', ...extra });
  // Whole seconds only, as a clock: sub-second ticks (uPlot's default for a short span) are noise here.
  const x = axis({ incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300], space: 70, values: (_u, vs) => vs.map((v) => fmtClock(v)) });
  const line = (label, color, scale, value, fill) => ({ label, stroke: color, width: 1.6, scale, value: (_u, v) => value(v), fill, points: { show: false } });
  const common = { width, height, cursor: { drag: { x: false, y: false } }, legend: { live: true } };
  const time = { label: 'time', value: (_u, v) => (v === null || v === undefined ? '–' : fmtClock(v)) };
  if (kind === 'traffic') {
    return {
      ...common,
      scales: {
        x: { time: true },
        rps: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 0) * 1.15)] },
        // Success rates live near 100%: the axis starts at 90% unless the rate falls lower.
        pct: { range: (_u, min) => [Math.max(0, Math.min(90, Math.floor((min ?? 100) / 10) * 10)), 100] },
      },
      series: [time, line('req/s', COLORS.rps, 'rps', fmtRate, 'rgba(47,111,222,0.10)'), line('success', COLORS.sr, 'pct', (v) => (v === null || v === undefined ? '–' : `${v.toFixed(2)}%`))],
      axes: [x, axis({ scale: 'rps', size: 46, values: (_u, vs) => vs.map(fmtRate) }), axis({ scale: 'pct', side: 1, size: 42, grid: { show: false }, values: (_u, vs) => vs.map((v) => `${v}%`) })],
    };
  }
  return {
    ...common,
    scales: { x: { time: true }, ms: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 0) * 1.15)] } },
    series: [time, line('p50', COLORS.p50, 'ms', fmtMs), line('p95', COLORS.p95, 'ms', fmtMs), line('p99', COLORS.p99, 'ms', fmtMs)],
    axes: [x, axis({ scale: 'ms', size: 52, values: (_u, vs) => vs.map(fmtMs) })],
  };
}

/**
 * A live uPlot chart of a dashboard History: `traffic` (req/s and success rate) or `latency`
 * (p50/p95/p99). The host's `data-points` says how many samples are drawn, for tests and
 * for anyone curious. The plot is created lazily, once the host has a width.
 */
export class TimeChart {
  #plot = null;
  #data = null;

  constructor(host, kind, height, subtitle = '') {
    this.host = host;
    this.kind = kind;
    this.height = height;
    const title = kind === 'traffic' ? 'requests/s and success rate' : 'latency (last minute)';
    this.box = h('div');
    host.replaceChildren(h('div', { class: 'title' }, title, subtitle ? ` · ${subtitle}` : ''), this.box);
    host.dataset.points = '0';
    this.resizer = new ResizeObserver(() => this.#draw());
    this.resizer.observe(host);
  }

  update(hist) {
    const xs = hist.t.map((t) => t / 1000);
    this.#data = this.kind === 'traffic' ? [xs, hist.rps.slice(), hist.sr.slice()] : [xs, hist.p50.slice(), hist.p95.slice(), hist.p99.slice()];
    this.host.dataset.points = String(xs.length);
    this.#draw();
  }

  #draw() {
    const width = this.host.clientWidth;
    if (this.#data === null || width === 0) return;
    if (typeof window.uPlot !== 'function') {
      setText(this.box, 'charts unavailable: /files/uPlot.iife.min.js did not load');
      return;
    }
    if (this.#plot === null) this.#plot = new window.uPlot(chartOptions(this.kind, width, this.height), this.#data, this.box);
    else {
      if (Math.abs(this.#plot.width - width) > 1) this.#plot.setSize({ width, height: this.height });
      this.#plot.setData(this.#data);
    }
    // Out of hover, the legend shows the latest values rather than dashes.
    if (this.#plot.cursor.idx === null || this.#plot.cursor.idx === undefined) this.#plot.setLegend({ idx: this.#data[0].length - 1 });
  }

  destroy() {
    this.resizer.disconnect();
    this.#plot?.destroy();
    this.#plot = null;
    this.host.replaceChildren();
  }
}

// The delegator (`/delegator`): linkerd's dtab playground, plus "explain a request".
// A delegation is asked over /admin/ws, so the tree is redrawn whenever the namers change
// their answer; /delegator.json is the fallback while the socket is down. The whole view
// (router, edited dtab, path, explain inputs) lives in the query string, so a link reproduces it.

import { Feed, fetchJson, fmtTime, h, renderHeader, setText } from './common.js';
import { treeView } from './tree.js';

const $ = (id) => document.getElementById(id);
const form = { router: $('router'), dtab: $('dtab'), path: $('path'), method: $('method'), url: $('url'), headers: $('headers') };
const out = { delegation: $('delegation'), explain: $('explain') };
const routers = new Map(); // label -> /routers.json entry
let boundNames = [];

/**
 * One dentry per line, `prefix => dst`, reads (and edits) better than the one-line form the
 * server shows (`/svc=>/#/io.l5d.fs;/svc/web=>...`). Only layout changes, never meaning.
 */
function prettyDtab(text) {
  const dentry = (d) => {
    const at = d.indexOf('=>');
    return at < 0 ? d.trim() : `${d.slice(0, at).trim()} => ${d.slice(at + 2).trim()}`;
  };
  const dentries = String(text ?? '')
    .split(';')
    .map(dentry)
    .filter((d) => d !== '');
  return dentries.map((d) => `${d};`).join('\n');
}

const baseDtab = () => prettyDtab(routers.get(form.router.value)?.dtab ?? '');
const dtabEdited = () => prettyDtab(form.dtab.value) !== baseDtab();

const errorEl = (testid, text) => h('div', { class: 'error', 'data-testid': testid, role: 'alert' }, text);

// === Delegation (live over the feed) ===

let current = null; // the delegation on screen: {id, namespace, dtab, path, answered, shown}
let nextId = 1;

function showDelegation(status, body, error) {
  if (current === null) return;
  current.answered = true;
  if (status !== 200 || body === null || typeof body !== 'object') {
    out.delegation.replaceChildren(errorEl('delegation-error', String(error ?? body ?? `error ${status}`).trim() || `error ${status}`));
    current.shown = '';
    return;
  }
  const text = JSON.stringify(body);
  if (text === current.shown) return; // the same answer again: nothing to redraw
  const changed = current.shown !== undefined && current.shown !== '';
  const stamp = h('div', { class: 'updated', 'data-testid': 'delegation-updated' }, `${changed ? 'updated' : 'resolved'} at ${fmtTime(Date.now())}, following the namers live`);
  current.shown = text;
  out.delegation.replaceChildren(stamp, ...treeView(body));
  if (changed) {
    // Restart the highlight animation so a live change is noticed.
    out.delegation.classList.remove('flash');
    void out.delegation.offsetWidth;
    out.delegation.classList.add('flash');
  }
}

function subscribe() {
  if (current === null) return false;
  // No router (none configured): no namespace, so only the dtab and the /$ namers answer.
  return feed.send({ type: 'delegate', id: current.id, namespace: current.namespace || undefined, dtab: current.dtab, path: current.path });
}

async function delegateOverHttp(q) {
  const qs = new URLSearchParams({ dtab: q.dtab, path: q.path });
  if (q.namespace) qs.set('namespace', q.namespace);
  try {
    const body = await fetchJson(`/delegator.json?${qs}`);
    if (current === q) showDelegation(200, body);
  } catch (e) {
    if (current === q) showDelegation(e.status ?? 0, null, e.message);
  }
}

function delegate() {
  const path = form.path.value.trim();
  if (path === '') {
    current = null;
    feed.send({ type: 'undelegate' });
    out.delegation.replaceChildren(errorEl('delegation-error', 'Type a path to delegate, such as /svc/web.'));
    return;
  }
  current = { id: nextId++, namespace: form.router.value, dtab: form.dtab.value, path, answered: false };
  out.delegation.replaceChildren(h('p', { class: 'placeholder' }, `resolving ${path}…`));
  syncUrl(true);
  const q = current;
  if (!subscribe()) void delegateOverHttp(q);
  // A server that does not answer over the socket still gets asked the plain way.
  else setTimeout(() => current === q && !q.answered && void delegateOverHttp(q), 2500);
}

// === Explain a request ===

/** `name: value` lines; blank lines and `#` comments are skipped; a line without a colon is an error. */
function parseHeaders(text) {
  const headers = [];
  text.split('\n').forEach((line, i) => {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) return;
    const c = l.indexOf(':');
    if (c <= 0) throw new Error(`headers, line ${i + 1}: expected "name: value", got "${l}"`);
    headers.push([l.slice(0, c).trim(), l.slice(c + 1).trim()]);
  });
  return headers;
}

function dtabBlock(label, text) {
  if (!text) return [];
  return [h('dt', {}, label), h('dd', {}, h('pre', { 'data-testid': `explain-dtab-${label.split(' ')[0]}` }, prettyDtab(text)))];
}

/** `routed: true` (no status) when the request would be sent; otherwise the error a live request gets. */
function outcomeEl(o = {}) {
  const routed = o.routed === true || (o.routed === undefined && Number(o.status) >= 200 && Number(o.status) < 400);
  const err = o.l5dErr ? decodeURIComponent(String(o.l5dErr).replaceAll('+', ' ')) : '';
  return h(
    'div',
    { class: `outcome ${routed ? 'ok' : 'bad'}`, 'data-testid': 'explain-outcome', 'data-routed': String(routed) },
    h('span', { class: 'status' }, routed ? 'routed' : String(o.status ?? 'not routed')),
    h('span', { class: 'message' }, o.message ?? ''),
    err && err.trim() !== String(o.message ?? '').trim() ? h('code', {}, `l5d-err: ${err}`) : null,
  );
}

/** A client's endpoints: the address, with its health and load when the server says them. */
function endpointsEl(b) {
  const eps = Array.isArray(b.endpoints) && b.endpoints.length > 0 ? b.endpoints : (b.addresses ?? []).map((address) => ({ address }));
  return h(
    'div',
    { class: 'addrs' },
    eps.map((e) => h('span', { class: `addr${e.state && e.state !== 'alive' ? ' sr-bad' : ''}`, 'data-testid': 'explain-addr', title: e.state ? `${e.state}, load ${e.load ?? 0}` : null }, e.address)),
  );
}

function explainView(r) {
  const id = r.identification ?? {};
  const parts = [
    outcomeEl(r.outcome ?? {}),
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'request'),
      h('dd', {}, h('code', {}, `${r.request?.method ?? ''} ${r.request?.uri ?? ''}`), r.request?.host ? ` (host ${r.request.host})` : ' (no host)'),
      h('dt', {}, 'identified as'),
      h('dd', { 'data-testid': 'explain-name' }, id.kind === 'identified' ? h('code', {}, id.path) : h('span', { class: 'sr-bad' }, `unidentified: ${id.reason ?? 'no reason given'}`)),
      dtabBlock('effective dtab', r.dtab?.effective),
      dtabBlock('base (router)', r.dtab?.base),
      dtabBlock('ctx (l5d-ctx-dtab)', r.dtab?.ctx),
      dtabBlock('local (l5d-dtab)', r.dtab?.local),
    ),
  ];
  const bound = Array.isArray(r.bound) ? r.bound : [];
  if (bound.length > 0) {
    parts.push(
      h('h3', {}, 'bound set'),
      h(
        'table',
        { class: 'boundset', 'data-testid': 'explain-bound' },
        h('tr', {}, ['client', 'residual', 'share', 'state', 'endpoints'].map((t) => h('th', {}, t))),
        bound.map((b) =>
          h(
            'tr',
            { 'data-testid': 'explain-bound-row' },
            h('td', {}, h('code', {}, b.id ?? '')),
            h('td', {}, h('code', {}, b.residual ?? '/')),
            h('td', {}, typeof b.weight === 'number' ? `${Math.round(b.weight * 100)}%` : ''),
            h('td', { class: b.state === 'bound' ? 'sr-good' : 'sr-bad' }, b.state ?? ''),
            h('td', {}, endpointsEl(b)),
          ),
        ),
      ),
    );
  }
  if (r.delegation) parts.push(h('h3', {}, 'delegation'), ...treeView(r.delegation));
  return parts;
}

async function explain() {
  syncUrl(true);
  const url = form.url.value.trim();
  if (url === '') {
    out.explain.replaceChildren(errorEl('explain-error', 'Type the request URL, such as http://web/path.'));
    return;
  }
  let headers;
  try {
    headers = parseHeaders(form.headers.value);
  } catch (e) {
    out.explain.replaceChildren(errorEl('explain-error', e.message));
    return;
  }
  out.explain.replaceChildren(h('p', { class: 'placeholder' }, 'explaining…'));
  try {
    const r = await fetchJson('/explain.json', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ router: form.router.value, method: form.method.value, url, headers }) });
    out.explain.replaceChildren(...explainView(r));
  } catch (e) {
    out.explain.replaceChildren(errorEl('explain-error', e.message));
  }
}

// === The view in the URL ===

function viewQuery() {
  const q = new URLSearchParams();
  if (form.router.value) q.set('router', form.router.value);
  if (dtabEdited()) q.set('dtab', form.dtab.value);
  if (form.path.value.trim()) q.set('path', form.path.value.trim());
  if (form.url.value.trim()) {
    if (form.method.value !== 'GET') q.set('method', form.method.value);
    q.set('url', form.url.value.trim());
    if (form.headers.value.trim()) q.set('headers', form.headers.value.trim());
  }
  return q.toString();
}

/** Keeps the share link (and, after an action, the address bar) in step with the inputs. */
function syncUrl(address = false) {
  const q = viewQuery();
  const link = `/delegator${q ? `?${q}` : ''}`;
  const share = $('share');
  share.href = link;
  const shown = decodeURIComponent(link.replaceAll('+', ' '));
  setText(share, shown.length > 90 ? `${shown.slice(0, 88)}…` : shown);
  if (address) history.replaceState(null, '', link);
  $('dtab-edited').hidden = !dtabEdited();
}

function suggestions() {
  const r = routers.get(form.router.value);
  const names = new Set([...(r?.dstPrefix ? [`${r.dstPrefix}/`] : []), ...(r?.names ?? []), ...boundNames]);
  $('names').replaceChildren(...[...names].slice(0, 500).map((n) => h('option', { value: n })));
  if (r?.dstPrefix && !form.path.value) form.path.placeholder = `${r.dstPrefix}/web`;
}

// === Wiring ===

const statusEl = renderHeader();
const feed = new Feed({
  statusEl,
  onOpen: () => subscribe(), // after a restart the server has forgotten us: ask again
  onMessage: (msg) => {
    if (msg.type === 'delegation' && current !== null && msg.id === current.id) showDelegation(Number(msg.status), msg.body, msg.error);
  },
});

$('delegate-form').addEventListener('submit', (e) => {
  e.preventDefault();
  delegate();
});
$('explain-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void explain();
});
$('reset').addEventListener('click', () => {
  form.dtab.value = baseDtab();
  syncUrl();
  if (current !== null) delegate();
});
form.router.addEventListener('change', () => {
  form.dtab.value = baseDtab();
  suggestions();
  syncUrl(true);
  if (current !== null) delegate();
});
for (const el of [form.dtab, form.path, form.method, form.url, form.headers]) el.addEventListener('input', () => syncUrl());
$('copy').addEventListener('click', async () => {
  const link = new URL($('share').href, location.href).href;
  try {
    await navigator.clipboard.writeText(link);
    setText($('copy'), 'copied');
  } catch {
    // Clipboard access needs a secure context; selecting the link is the next best thing.
    getSelection()?.selectAllChildren($('share'));
    setText($('copy'), 'select + copy');
  }
  setTimeout(() => setText($('copy'), 'copy'), 1500);
});

/** Loads routers and suggestions, applies the query string, and replays what it asks for. */
async function start() {
  const params = new URLSearchParams(location.search);
  try {
    const list = await fetchJson('/routers.json');
    for (const r of Array.isArray(list) ? list : []) if (typeof r?.label === 'string') routers.set(r.label, r);
  } catch (e) {
    out.delegation.replaceChildren(errorEl('delegation-error', `Could not read the routers (/routers.json): ${e.message}`));
  }
  fetchJson('/bound-names.json').then(
    (names) => {
      boundNames = Array.isArray(names) ? names.filter((n) => typeof n === 'string') : [];
      suggestions();
    },
    () => {},
  );
  const want = params.get('router');
  form.router.replaceChildren(...[...routers.values()].map((r) => h('option', { value: r.label }, `${r.label} (${r.protocol ?? '?'})`)));
  if (routers.size === 0) form.router.append(h('option', { value: '' }, '(no router: dtab and /$ namers only)'));
  if (want !== null && routers.has(want)) form.router.value = want;
  else if (want !== null) out.delegation.replaceChildren(errorEl('delegation-error', `There is no router "${want}"; showing ${form.router.value || 'none'}.`));
  form.dtab.value = params.has('dtab') ? params.get('dtab') : baseDtab();
  form.path.value = params.get('path') ?? '';
  form.method.value = params.get('method') ?? 'GET';
  form.url.value = params.get('url') ?? '';
  form.headers.value = params.get('headers') ?? '';
  suggestions();
  syncUrl();
  if (form.path.value) delegate();
  if (form.url.value) void explain();
}

void start();

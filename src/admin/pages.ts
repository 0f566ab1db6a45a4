// The admin server's pages: the dashboard and delegator (static files in ./ui, with the uPlot
// chart library), and the small server-rendered ones, `/logging`, `/requests` and `/help`.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecentRequest } from '../proxy/index.ts';
import { html } from './respond.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));
const require = createRequire(import.meta.url);
/** Files served from the uPlot package rather than ./ui. */
const VENDOR: Record<string, string> = {
  'uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
};

const cache = new Map<string, { type: string; body: Buffer }>();

/** A UI file by name (`dashboard.js`), read once; undefined when there is none. */
export function uiFile(name: string): { type: string; body: Buffer } | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) return undefined;
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  let file: string;
  try {
    file = VENDOR[name] !== undefined ? require.resolve(VENDOR[name]) : `${UI_DIR}${name}`;
  } catch {
    return undefined;
  }
  const type = TYPES[extname(name)];
  if (type === undefined) return undefined;
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch {
    return undefined;
  }
  const out = { type, body };
  cache.set(name, out);
  return out;
}

const NAV: [string, string][] = [
  ['/', 'dashboard'],
  ['/delegator', 'dtab'],
  ['/requests', 'requests'],
  ['/logging', 'logging'],
  ['/help', 'help'],
  ['/admin', 'admin'],
];

/**
 * The top bar of every page: the brand and the nav, `current` marked. The dashboard and the
 * delegator get it here too (uiPage), so there is one list of pages and one markup; their
 * scripts add the feed's status to it.
 */
function topBar(current: string): string {
  const nav = NAV.map(([href, name]) => `<a href="${href}" data-testid="nav-${name}"${href === current ? ' aria-current="page"' : ''}>${name}</a>`).join('');
  return `<header id="top"><a class="brand" href="/">dtabd</a><nav aria-label="admin pages">${nav}</nav></header>`;
}

/** Where a static page of ./ui has its top bar put in. */
const EMPTY_TOP = '<header id="top"></header>';
const uiPages = new Map<string, { type: string; body: Buffer }>();

/** A static page of ./ui (`dashboard.html`) with its top bar, `current` marked; undefined when the file is missing. */
export function uiPage(name: string, current: string): { type: string; body: Buffer } | undefined {
  const hit = uiPages.get(name);
  if (hit !== undefined) return hit;
  const f = uiFile(name);
  if (f === undefined) return undefined;
  const out = { type: f.type, body: Buffer.from(f.body.toString('utf8').replace(EMPTY_TOP, topBar(current))) };
  uiPages.set(name, out);
  return out;
}

/** A server-rendered page in the UI's style. */
export function page(title: string, current: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>dtabd · ${html(title)}</title><link rel="stylesheet" href="/files/style.css"></head>
<body>${topBar(current)}
<main>${body}</main>${script === '' ? '' : `<script type="module">${script}</script>`}</body></html>
`;
}

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'OFF'];

/** `/logging`: the loggers and their levels, with buttons that change them through `/logging.json`. */
export function loggingPage(level: string): string {
  const buttons = LEVELS.map(
    (l) => `<button type="button" data-level="${l}"${l === level || (l === 'WARNING' && level === 'WARN') ? ' class="current"' : ''}>${l}</button>`,
  ).join(' ');
  const body = `<h1>Logging</h1>
<p>The level of each logger, changed at once (not kept across a restart).</p>
<table class="grid"><thead><tr><th>logger</th><th>level</th></tr></thead>
<tbody><tr><td>root</td><td class="levels" data-testid="levels">${buttons}</td></tr></tbody></table>
<p id="status" role="status"></p>`;
  const script = `for (const b of document.querySelectorAll('button[data-level]')) b.addEventListener('click', async () => {
  const r = await fetch('/logging.json', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'logger=root&level=' + b.dataset.level });
  document.getElementById('status').textContent = r.ok ? 'root is now ' + b.dataset.level : 'refused: ' + (await r.text());
  if (r.ok) for (const o of document.querySelectorAll('button[data-level]')) o.classList.toggle('current', o === b);
});`;
  return page('logging', '/logging', body, script);
}

/** `/requests`: the recent-requests sample, newest first. */
export function requestsPage(sample: { sampleRate: number; capacity: number; requests: RecentRequest[] }): string {
  const rows = sample.requests
    .map(
      (r) => `<tr><td>${html(new Date(r.timestamp).toISOString())}</td><td>${html(r.router)}</td><td>${html(r.source)}</td><td>${html(r.method)}</td><td>${html(r.host ?? '')}</td><td>${html(r.uri)}</td>
<td>${r.name === undefined ? '' : `<a href="/delegator?router=${encodeURIComponent(r.router)}&path=${encodeURIComponent(r.name)}">${html(r.name)}</a>`}</td>
<td>${html(r.dtab ?? '')}</td><td>${html(r.client ?? '')}</td><td>${html(r.endpoint ?? '')}</td><td>${r.status}</td><td>${r.latencyMs}</td></tr>`,
    )
    .join('\n');
  const body = `<h1>Recent requests</h1>
<p>A sample of ${sample.sampleRate * 100}% of requests, the last ${sample.capacity} kept (<code>io.l5d.recentRequests</code>); also as <a href="/requests.json">JSON</a>.</p>
<table class="grid" data-testid="requests"><thead><tr><th>finished</th><th>router</th><th>from</th><th>method</th><th>host</th><th>uri</th><th>name</th><th>dtab</th><th>client</th><th>endpoint</th><th>status</th><th>ms</th></tr></thead>
<tbody>${rows}</tbody></table>`;
  return page('requests', '/requests', body);
}

/** `/help`: where to look when a request does not go where it should. */
export function helpPage(prometheusPath: string): string {
  const body = `<h1>Help</h1>
<h2>Pages</h2>
<ul>
<li><a href="/">Dashboard</a>: request and success rates, latency and retries per router, server, service and client, live.</li>
<li><a href="/delegator">Delegator</a>: how a router's dtab rewrites a name, step by step, to live addresses; "explain a request" runs a request's URL and headers through the router's own identifier and binding.</li>
<li><a href="/requests">Recent requests</a> (with <code>io.l5d.recentRequests</code>), <a href="/logging">logging</a> levels.</li>
</ul>
<h2>JSON and text endpoints</h2>
<ul>
<li><a href="/admin/metrics.json">/admin/metrics.json</a> (<code>?tree=1</code>, <code>?q=rt/http</code>, <code>?pretty=1</code>) and <a href="${html(prometheusPath)}">${html(prometheusPath)}</a>.</li>
<li><a href="/client_state.json">/client_state.json</a>: each client's state and addresses; <a href="/bound-names.json">/bound-names.json</a>: the names the namers can list.</li>
<li><code>/namer_state/&lt;prefix&gt;.json</code>: a namer's watches and their last answers.</li>
<li><code>/delegator.json?namespace=&lt;router&gt;&amp;dtab=&lt;dtab&gt;&amp;path=&lt;name&gt;</code>, and <code>POST /explain.json</code>.</li>
<li><a href="/config.json">/config.json</a>, <a href="/admin">/admin</a> (every endpoint), <a href="/admin/ping">/admin/ping</a>.</li>
</ul>
<h2>"No hosts are available"</h2>
<ol>
<li>Find the name the request was given: the error's <code>l5d-err</code> header says it, or explain the request on the delegator page.</li>
<li>Delegate that name on the delegator page: each dentry tried is shown. A <code>neg</code> leaf means no rule or namer had the name.</li>
<li>A leaf with no addresses: look at <code>/client_state.json</code> and the namer's <code>/namer_state</code> page for when it last heard from discovery.</li>
</ol>
<h2>From another host</h2>
<p>The admin port listens on 127.0.0.1 unless <code>admin.ip</code> says otherwise. Reach it through a tunnel (<code>ssh -L 9990:127.0.0.1:9990 host</code>, <code>kubectl port-forward</code>). Control endpoints (<code>/admin/shutdown</code>, <code>/logging.json</code>) answer loopback callers only unless <code>admin.security.controlLoopbackOnly</code> is false.</p>`;
  return page('help', '/help', body);
}

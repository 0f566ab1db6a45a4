// The admin server (linkerd's, on 127.0.0.1:9990 by default), with linkerd's paths, methods and
// JSON shapes (spec/linkerd.md §8), the dashboard and delegator pages and their WebSocket, and
// the `security` block applied to every path. It reads the daemon through the hooks it is
// given; nothing imports it but the daemon.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ExportThread, treeOfSliced } from '../metrics/index.ts';
import { delegatorJson, explainJson } from './delegator-api.ts';
import { Feed } from './feed.ts';
import type { AdminHooks } from './hooks.ts';
import { helpPage, loggingPage, requestsPage, uiFile, uiPage } from './pages.ts';
import { sendExport } from './export-send.ts';
import { BodyRefused, readBody, sendBody, sendJson, sendText } from './respond.ts';
import { admit, DEFAULT_SECURITY } from './security.ts';

/** pino's levels, by the names linkerd's `/logging.json` uses. */
const LEVELS: Record<string, string> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARNING: 'warn', WARN: 'warn', ERROR: 'error', FATAL: 'fatal', OFF: 'silent', ALL: 'trace' };

const ENDPOINTS = [
  '/',
  '/admin',
  '/admin/ping',
  '/admin/shutdown',
  '/admin/metrics.json',
  '/admin/ws',
  '/bound-names.json',
  '/client_state.json',
  '/config.json',
  '/delegator',
  '/delegator.json',
  '/explain.json',
  '/help',
  '/logging',
  '/logging.json',
  '/namer_state/',
  '/requests',
  '/requests.json',
  '/routers.json',
];

/** Dashboard pages open at once, at most. */
const MAX_PAGES = 100;

/** linkerd's `?grace=` durations: `10.seconds`, `500.milliseconds`, `1.minute`, or plain ms. */
function graceMs(text: string | null): number | undefined {
  if (text === null) return undefined;
  const m = /^(\d+(?:\.\d+)?)(?:\.?(ms|milliseconds?|s|seconds?|m|minutes?))?$/.exec(text.trim());
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const ms = Math.round(unit.startsWith('m') && !unit.startsWith('ms') && !unit.startsWith('mil') ? n * 60_000 : unit.startsWith('s') ? n * 1000 : n);
  // Past setTimeout's range a grace would fire at once: none is that long anyway.
  return Math.min(ms, 2 ** 31 - 1);
}

export class AdminServer {
  readonly server: Server;
  readonly feed: Feed;
  readonly #hooks: AdminHooks;
  /** Writes the scrapes of a large tree off the event loop. */
  readonly exporter: ExportThread;
  /** Gives a scrape's written chunk back to the exporter: made once, not once per scrape. */
  readonly #release: (chunk: Buffer) => void;

  constructor(hooks: AdminHooks, feedIntervalMs = 1000) {
    this.#hooks = hooks;
    this.exporter = new ExportThread(hooks.metrics, { minMetrics: hooks.exportThreadMinMetrics, onFailure: (e) => hooks.warn?.(`metrics export thread: ${e.message}; exporting on the event loop`) });
    this.#release = (c) => this.exporter.release(c);
    this.feed = new Feed(hooks, feedIntervalMs);
    this.server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => this.#handle(req, res));
    this.server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head));
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // node:http has let go of the socket: its errors (a reset) are ours to handle.
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, reason: string): void => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://admin').pathname;
    } catch {
      refuse(400, 'Bad Request');
      return;
    }
    const verdict = admit(this.#hooks.security ?? DEFAULT_SECURITY, path, req.socket.remoteAddress, req.headers);
    if (!verdict.ok) return refuse(verdict.status, verdict.status === 403 ? 'Forbidden' : 'Not Found');
    if (path !== '/admin/ws' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return refuse(404, 'Not Found');
    if (this.feed.pages >= MAX_PAGES) return refuse(503, 'Service Unavailable');
    this.feed.upgrade(req, socket, head);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin');
    } catch {
      req.resume();
      sendText(res, 400, 'Malformed request target\n');
      return;
    }
    const path = url.pathname;
    const verdict = admit(this.#hooks.security ?? DEFAULT_SECURITY, path, req.socket.remoteAddress, req.headers);
    if (!verdict.ok) {
      req.resume();
      sendText(res, verdict.status, `${verdict.reason}\n`);
      return;
    }
    // HEAD is answered as GET without the body (node:http leaves the body out).
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    this.#route(req, res, url, method ?? 'GET').catch((e: unknown) => {
      if (!res.headersSent) sendText(res, 500, `${(e as Error).message}\n`);
      else res.destroy();
    });
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const hooks = this.#hooks;
    const path = url.pathname;
    const flag = (k: string): boolean => ['1', 'true'].includes(url.searchParams.get(k) ?? '');
    const pretty = flag('pretty');
    if (path === '/delegator.json') return delegatorJson(hooks, req, res, url, pretty);
    if (path === '/explain.json') return explainJson(hooks, req, res, pretty);
    if (path === '/logging.json') return this.#logging(req, res, url, method);
    // Nothing else reads a body: drain it so the connection can be reused.
    req.resume();
    if (path === '/admin/shutdown') {
      if (method !== 'POST') return sendText(res, 405, 'POST to shut down\n', { allow: 'POST' });
      const grace = url.searchParams.get('grace');
      const ms = graceMs(grace);
      if (grace !== null && ms === undefined) return sendText(res, 400, `grace: expected a duration such as 10.seconds or 500 (ms), not ${JSON.stringify(grace)}\n`);
      sendText(res, 200, 'quitting\n');
      res.once('finish', () => hooks.shutdown(ms));
      return;
    }
    if (method !== 'GET') return sendText(res, 405, `${path} answers GET\n`, { allow: 'GET, HEAD' });
    const prom = hooks.prometheus();
    if (path === prom.path) {
      return sendExport(req, res, 'text/plain; version=0.0.4; charset=utf-8', this.exporter, { format: 'prometheus', prefix: prom.prefix }, this.#release);
    }
    if (path.startsWith('/files/')) {
      const f = uiFile(path.slice('/files/'.length));
      if (f === undefined) return sendText(res, 404, `not found: ${path}\n`);
      return sendBody(res, 200, f.type, f.body, { 'cache-control': 'no-cache' });
    }
    if (path.startsWith('/namer_state/') && path.endsWith('.json')) {
      let prefix: string;
      try {
        prefix = decodeURIComponent(path.slice('/namer_state/'.length, -'.json'.length));
      } catch {
        return sendText(res, 400, `Malformed namer prefix in ${path}\n`);
      }
      const state = hooks.namerState(prefix);
      if (state === undefined) return sendText(res, 404, `No namer with state at ${prefix}; namers: ${hooks.namerPrefixes().join(', ') || 'none'}\n`);
      return sendJson(res, 200, state, pretty);
    }
    switch (path) {
      case '/':
      case '/delegator': {
        const f = uiPage(path === '/' ? 'dashboard.html' : 'delegator.html', path);
        if (f === undefined) return sendText(res, 500, 'the admin UI files are missing from this installation\n');
        return sendBody(res, 200, f.type, f.body, { 'cache-control': 'no-cache' });
      }
      case '/admin':
      case '/admin/index.txt':
        return sendText(res, 200, `${[...ENDPOINTS, prom.path].sort().join('\n')}\n`);
      case '/admin/ping':
        return sendText(res, 200, 'pong');
      case '/admin/metrics.json': {
        const m = hooks.metrics;
        const q = url.searchParams.get('q') ?? undefined;
        // A scope is a short path: a long one names nothing (and costs nothing to refuse).
        const long = q !== undefined && q.length > 1024;
        if (q !== undefined && q !== '' && (long || !m.hasScope(q))) return sendJson(res, 404, { error: `No such subtree: ${long ? `${q.slice(0, 64)}...` : q}` });
        const tree = flag('tree');
        if (tree || pretty) return sendJson(res, 200, tree ? await treeOfSliced(m, q) : m.flat(q), pretty);
        // The common scrape: written as JSON text directly.
        return sendExport(req, res, 'application/json', this.exporter, { format: 'json', under: q }, this.#release);
      }
      case '/client_state.json':
        return sendJson(res, 200, hooks.clientState(), pretty);
      case '/config.json':
        return sendJson(res, 200, hooks.config(), pretty);
      case '/routers.json':
        return sendJson(res, 200, hooks.routers(), pretty);
      case '/bound-names.json':
        return sendJson(res, 200, await hooks.boundNames(), pretty);
      case '/logging':
        return sendBody(res, 200, 'text/html; charset=utf-8', loggingPage((hooks.logLevel?.get() ?? 'info').toUpperCase()));
      case '/help':
        return sendBody(res, 200, 'text/html; charset=utf-8', helpPage(prom.path));
      case '/requests':
      case '/requests.json': {
        const sample = hooks.recentRequests();
        if (sample === undefined) return sendText(res, 404, 'Recent requests are kept with the io.l5d.recentRequests telemeter (telemetry: [{kind: io.l5d.recentRequests, sampleRate: 1.0}])\n');
        if (path === '/requests.json') return sendJson(res, 200, sample, pretty);
        return sendBody(res, 200, 'text/html; charset=utf-8', requestsPage(sample));
      }
      default:
        return sendText(res, 404, `not found: ${path}\n`);
    }
  }

  /** `GET` the root logger's level; `POST logger=root&level=DEBUG` (form or query) changes it. */
  async #logging(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const hook = this.#hooks.logLevel;
    const current = (): { logger: string; level: string }[] => [{ logger: 'root', level: (hook?.get() ?? 'info').toUpperCase() }];
    if (method !== 'POST') {
      req.resume();
      return sendJson(res, 200, current());
    }
    // A form of a logger name and a level is short: anything longer is not one.
    let body: string;
    try {
      body = await readBody(req, res, 4096);
    } catch (e) {
      if (!(e instanceof BodyRefused)) sendText(res, 400, `${(e as Error).message}\n`);
      return;
    }
    const form = new URLSearchParams(body.length > 0 ? body : url.search);
    const logger = form.get('logger');
    const level = form.get('level');
    if (logger === null || level === null) return sendText(res, 400, 'logger and level are required\n');
    if (logger !== 'root') return sendText(res, 400, `unknown logger ${logger}; known: root\n`);
    const pinoLevel = LEVELS[level.toUpperCase()];
    if (hook === undefined) return sendText(res, 400, 'log levels cannot be changed in this process\n');
    if (pinoLevel === undefined || !hook.set(pinoLevel)) {
      return sendText(res, 400, `unknown level ${level}; known: ${Object.keys(LEVELS).join(', ')}\n`);
    }
    sendJson(res, 200, current());
  }

  listen(port: number, ip: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, ip, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    this.feed.close();
    // The thread may be writing to a connection: it stops before any is closed.
    await this.exporter.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

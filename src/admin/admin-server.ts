// The admin server (linkerd's, on 127.0.0.1:9990 by default), with linkerd's paths and JSON
// shapes: `/admin` (the list), `/admin/ping`, `POST /admin/shutdown`, `/admin/metrics.json`
// (flat, `?tree=1`, `?q=<scope>`, `?pretty=1`), `/admin/metrics/prometheus` and
// `/client_state.json`.
// It reads the daemon through the callbacks it is given; nothing else imports it.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type MetricsRegistry, prometheusText } from '../metrics/index.ts';
import { type AdminSecurity, admit, DEFAULT_SECURITY } from './security.ts';

export interface AdminHooks {
  /** Starts a graceful shutdown (drain, then exit). */
  shutdown(): void;
  /** The metrics tree (`/admin/metrics.json`, `/admin/metrics/prometheus`). */
  readonly metrics: MetricsRegistry;
  /** Every client of every router: its state and addresses (`/client_state.json`). */
  clientState(): Record<string, { state: string; addresses: string[] }>;
  /** The config as read, re-served as JSON (`/config.json`). */
  config(): unknown;
  /** Every concrete name the namers can list (`/bound-names.json`). */
  boundNames(): Promise<string[]>;
  /** A delegation as `/delegator.json` answers it: a status and a JSON body or a message. */
  delegate(namespace: string | undefined, dtab: string, path: string): Promise<{ status: number; body: unknown }>;
  /** The log's level (`/logging.json`), when it can be changed. */
  readonly logLevel?: { get(): string; set(level: string): boolean } | undefined;
  /** Which paths answer whom (`admin.security`). */
  readonly security?: AdminSecurity;
}

/** pino's levels, by the names linkerd's `/logging.json` uses. */
const LEVELS: Record<string, string> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARNING: 'warn', WARN: 'warn', ERROR: 'error', FATAL: 'fatal', OFF: 'silent', ALL: 'trace' };

const ENDPOINTS = ['/admin', '/admin/ping', '/admin/shutdown', '/admin/metrics.json', '/admin/metrics/prometheus', '/client_state.json', '/config.json', '/delegator.json', '/bound-names.json', '/logging.json'];

/** Request bodies the admin server reads are small: anything larger is refused. */
const MAX_BODY = 64 * 1024;

function sendJson(res: ServerResponse, status: number, value: unknown, pretty: boolean): void {
  const body = `${JSON.stringify(value, null, pretty ? 2 : undefined)}${pretty ? '\n' : ''}`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Object keys sorted, all the way down (`?pretty=1`). */
function sorted(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sorted((v as Record<string, unknown>)[k]);
  return out;
}

function send(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

export class AdminServer {
  readonly server: Server;
  readonly #hooks: AdminHooks;

  constructor(hooks: AdminHooks) {
    this.#hooks = hooks;
    this.server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => this.#handle(req, res));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    const flag = (k: string): boolean => ['1', 'true'].includes(url.searchParams.get(k) ?? '');
    // A body, if any, is not read: drain it so the connection can be reused.
    req.resume();
    const verdict = admit(this.#hooks.security ?? DEFAULT_SECURITY, path, req.socket.remoteAddress);
    if (!verdict.ok) {
      send(res, verdict.status, `${verdict.reason}\n`);
      return;
    }
    switch (path) {
      case '/admin':
      case '/admin/index.txt':
        send(res, 200, `${ENDPOINTS.join('\n')}\n`);
        return;
      case '/admin/ping':
        send(res, 200, 'pong');
        return;
      case '/admin/shutdown':
        if (req.method !== 'POST') {
          send(res, 405, 'POST to shut down\n', { allow: 'POST' });
          return;
        }
        send(res, 200, 'quitting\n');
        res.once('finish', () => this.#hooks.shutdown());
        return;
      case '/admin/metrics/prometheus': {
        const body = prometheusText(this.#hooks.metrics);
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case '/admin/metrics.json': {
        const m = this.#hooks.metrics;
        const q = url.searchParams.get('q') ?? undefined;
        if (q !== undefined && q !== '' && !m.hasScope(q)) {
          sendJson(res, 404, { error: `No such subtree: ${q}` }, false);
          return;
        }
        const pretty = flag('pretty');
        const value = flag('tree') ? m.tree(q) : m.flat(q);
        sendJson(res, 200, pretty ? sorted(value) : value, pretty);
        return;
      }
      case '/client_state.json':
        sendJson(res, 200, this.#hooks.clientState(), flag('pretty'));
        return;
      case '/config.json':
        sendJson(res, 200, this.#hooks.config(), flag('pretty'));
        return;
      case '/logging.json':
        this.#logging(req, res, url);
        return;
      case '/delegator.json':
        this.#delegator(req, res, url);
        return;
      case '/bound-names.json':
        this.#hooks.boundNames().then(
          (names) => sendJson(res, 200, names, flag('pretty')),
          (e: Error) => send(res, 500, `${e.message}\n`),
        );
        return;
      default:
        send(res, 404, `not found: ${path}\n`);
    }
  }

  /**
   * linkerd's delegator API: `GET ?namespace=&dtab=&path=` or `POST` of JSON
   * `{"namespace", "dtab", "path"}`; 400 for what does not parse, 415 for a body that is not
   * JSON, 413 past 64 KiB, 503 when the tree does not settle in 2 s.
   */
  #delegator(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const answer = (q: { namespace?: unknown; dtab?: unknown; path?: unknown }): void => {
      if (typeof q.path !== 'string' || (q.dtab !== undefined && typeof q.dtab !== 'string') || (q.namespace !== undefined && q.namespace !== null && typeof q.namespace !== 'string')) {
        send(res, 400, 'Malformed delegation request: path (a string) is required; dtab and namespace are strings\n');
        return;
      }
      this.#hooks.delegate((q.namespace as string | null | undefined) ?? undefined, (q.dtab as string | undefined) ?? '', q.path).then(
        (r) => (typeof r.body === 'string' ? send(res, r.status, `${r.body}\n`) : sendJson(res, r.status, r.body, false)),
        (e: Error) => send(res, 500, `${e.message}\n`),
      );
    };
    if (req.method !== 'POST') {
      const p = url.searchParams;
      answer({ namespace: p.get('namespace') ?? undefined, dtab: p.get('dtab') ?? undefined, path: p.get('path') ?? undefined });
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      send(res, 415, 'Expected a JSON body (Content-Type: application/json)\n');
      return;
    }
    let body = '';
    let tooLarge = false;
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      if (tooLarge) return;
      body += c;
      if (body.length > MAX_BODY) {
        tooLarge = true;
        send(res, 413, `Request body larger than ${MAX_BODY} bytes\n`);
        req.destroy();
      }
    });
    req.on('end', () => {
      if (tooLarge) return;
      let q: unknown;
      try {
        q = JSON.parse(body);
      } catch (e) {
        send(res, 400, `Malformed delegation request: ${(e as Error).message}\n`);
        return;
      }
      if (q === null || typeof q !== 'object' || Array.isArray(q)) {
        send(res, 400, 'Malformed delegation request: expected an object\n');
        return;
      }
      answer(q as Record<string, unknown>);
    });
  }

  /** `GET` the root logger's level; `POST logger=root&level=DEBUG` (form or query) changes it. */
  #logging(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const hook = this.#hooks.logLevel;
    const current = (): { logger: string; level: string }[] => [{ logger: 'root', level: (hook?.get() ?? 'info').toUpperCase() }];
    if (req.method !== 'POST') {
      sendJson(res, 200, current(), false);
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
      // A form of a logger name and a level is short: anything longer is not one.
      if (body.length > 4096) req.destroy();
    });
    req.on('end', () => {
      const form = new URLSearchParams(body.length > 0 ? body : url.search);
      const logger = form.get('logger');
      const level = form.get('level');
      if (logger === null || level === null) {
        send(res, 400, 'logger and level are required\n');
        return;
      }
      const pinoLevel = LEVELS[level.toUpperCase()];
      if (pinoLevel === undefined || hook === undefined || !hook.set(pinoLevel)) {
        send(res, 400, `unknown level ${level}; known: ${Object.keys(LEVELS).join(', ')}\n`);
        return;
      }
      sendJson(res, 200, current(), false);
    });
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

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

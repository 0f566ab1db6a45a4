// The HTTP/1.1 server of a router: reads requests, names them, hands them to the router core
// and writes back what comes of it, streaming in both directions. node's llhttp parser, in
// its strict mode, refuses smuggling attempts (both Content-Length and Transfer-Encoding, or
// Content-Length twice) and oversized headers (431) before a request gets here.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Log } from '../../core/index.ts';
import { describeRequest, IdentificationError, ProxyError, ProxyLoopError } from '../errors.ts';
import type { Identifier } from '../identifier/index.ts';
import { type ErrorLimits, type ErrorResponse, rescue } from '../rescue.ts';
import type { DstDtabCache, Router } from '../router/index.ts';
import type { AccessLog } from './access-log.ts';
import type { Http1Endpoint } from './endpoint.ts';
import { hasL5dErr, readRequestHeaders, responseHeaders, setRawHeader } from './headers.ts';
import { Http1Request } from './request.ts';
import { handleUpgrade } from './upgrade.ts';
import { viaEntry } from './forward.ts';

export type Http1Router = Router<Http1Endpoint, Http1Request, IncomingMessage>;

export interface Http1ServerOptions {
  readonly label: string;
  readonly ip: string;
  readonly port: number;
  readonly clearContext: boolean;
  readonly maxConcurrentRequests: number | undefined;
  readonly maxCallDepth: number;
  readonly maxHeadersKB: number;
  /** A request's head must arrive within this (slow clients hold no connection forever). */
  readonly headersTimeoutMs: number;
  /** An idle connection is closed after this. */
  readonly idleTimeoutMs: number;
  readonly limits: ErrorLimits;
  readonly identifier: Identifier;
  readonly dtabs: DstDtabCache;
  readonly router: Http1Router;
  readonly accessLog: AccessLog | undefined;
  readonly log: Log;
}

/** Rejected past `maxConcurrentRequests` (503). */
export class ConcurrencyLimitError extends ProxyError {
  readonly code = 'L5D_OVERLOADED';
  readonly status = 503;

  constructor(max: number) {
    super(`Rejected: more than ${max} concurrent requests`);
  }
}

const ABSOLUTE_URI = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^#]*)/i;

/** An absolute-URI target split into authority and origin form; undefined for origin form. */
export function splitAbsoluteUri(url: string): { authority: string; path: string } | undefined {
  if (url.charCodeAt(0) === 47) return undefined;
  const m = ABSOLUTE_URI.exec(url);
  if (m === null) return undefined;
  const authority = m[2]!.replace(/^[^@]*@/, '');
  const rest = m[3]!;
  return { authority, path: rest === '' ? '/' : rest.charCodeAt(0) === 63 ? `/${rest}` : rest };
}

export class Http1Server {
  /** Replaced whole on reload; a request keeps the options it started with. */
  #options: Http1ServerOptions;
  readonly server: Server;
  #inflight = 0;
  #draining = false;

  constructor(options: Http1ServerOptions) {
    this.#options = options;
    this.server = createServer({
      maxHeaderSize: options.maxHeadersKB * 1024,
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: 0,
      keepAliveTimeout: options.idleTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, options.headersTimeoutMs / 4)),
      noDelay: true,
      // Duplicate headers are kept apart in rawHeaders, which is all the proxy reads.
      joinDuplicateHeaders: false,
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#handle(req, res, false));
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.#handle(req, res, true));
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#upgrade(req, socket, head));
    this.server.on('clientError', (e: NodeJS.ErrnoException, socket: Socket) => clientError(e, socket, this.#options.log));
    this.server.on('connection', (socket: Socket) => socket.setTimeout(this.#options.idleTimeoutMs, () => socket.destroy()));
  }

  get options(): Http1ServerOptions {
    return this.#options;
  }

  /** Takes new options for requests from now on (same listen address); requests in flight keep theirs. */
  reconfigure(options: Http1ServerOptions): void {
    this.#options = options;
    (this.server as { maxHeaderSize?: number }).maxHeaderSize = options.maxHeadersKB * 1024;
    this.server.headersTimeout = options.headersTimeoutMs;
    this.server.keepAliveTimeout = options.idleTimeoutMs;
  }

  get inflight(): number {
    return this.#inflight;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.ip, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  get address(): { address: string; port: number } {
    return this.server.address() as { address: string; port: number };
  }

  /**
   * Stops accepting, lets requests in flight finish for up to `graceMs`, then closes every
   * connection left.
   */
  close(graceMs: number): Promise<void> {
    this.#draining = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  /** Reads what every request needs; answers the error itself and returns undefined on failure. */
  #prepare(req: IncomingMessage, res: ServerResponse | undefined, expectContinue: boolean): Http1Request {
    const o = this.options;
    const headers = readRequestHeaders(req.rawHeaders, o.clearContext);
    let uri = req.url ?? '/';
    const absolute = splitAbsoluteUri(uri);
    if (absolute !== undefined) {
      uri = absolute.path;
      setRawHeader(headers.forward, 'host', 'Host', absolute.authority);
    }
    const pr = new Http1Request(req, res, uri, headers, expectContinue, Date.now());
    if (headers.viaCount > o.maxCallDepth) throw new ProxyLoopError(o.maxCallDepth);
    const id = o.identifier(pr);
    if (id.kind === 'unidentified') {
      const s = req.socket;
      throw new IdentificationError(describeRequest(pr.method, uri, s.remoteAddress ?? '0.0.0.0', s.remotePort ?? 0), id.reason);
    }
    if (id.uri !== undefined) pr.uri = id.uri;
    pr.dst = { path: id.path, dtabs: o.dtabs.get(headers.ctxDtab, headers.userDtab) };
    return pr;
  }

  #handle(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void {
    const o = this.options;
    if (this.#draining) res.shouldKeepAlive = false;
    if (o.maxConcurrentRequests !== undefined && this.#inflight >= o.maxConcurrentRequests) {
      this.#fail(req, res, new ConcurrencyLimitError(o.maxConcurrentRequests), undefined);
      return;
    }
    this.#inflight++;
    res.once('close', () => this.#inflight--);
    let pr: Http1Request;
    try {
      pr = this.#prepare(req, res, expectContinue);
    } catch (e) {
      this.#fail(req, res, e, undefined);
      return;
    }
    // The downstream side going away before the answer is complete aborts the upstream one.
    res.once('close', () => {
      if (!res.writableFinished) pr.abort?.();
    });
    o.router.dispatch(pr.dst!, pr).then(
      (up) => this.#respond(pr, up),
      (e) => this.#fail(req, res, e, pr),
    );
  }

  #respond(pr: Http1Request, up: IncomingMessage): void {
    const res = pr.res!;
    const o = this.options;
    if (res.destroyed) {
      up.destroy();
      return;
    }
    const headers = responseHeaders(up.rawHeaders, viaEntry(pr.httpVersion), o.clearContext);
    const status = up.statusCode ?? 502;
    let clearBody = false;
    if (o.clearContext && hasL5dErr(up.rawHeaders)) clearBody = true;
    try {
      res.writeHead(status, up.statusMessage, headers);
    } catch (e) {
      up.destroy();
      this.#fail(pr.req, res, e, pr);
      return;
    }
    // The upstream resetting mid-response cuts the downstream response short too: a truncated
    // body must not look complete.
    up.once('aborted', () => res.destroy());
    up.once('error', () => res.destroy());
    if (clearBody) {
      up.resume();
      up.once('end', () => res.end());
    } else {
      up.pipe(res);
    }
    if (o.accessLog !== undefined) res.once('finish', () => this.#logAccess(pr.req, pr.uri, status, up.headers['content-length']));
  }

  #fail(req: IncomingMessage, res: ServerResponse, error: unknown, pr: Http1Request | undefined): void {
    const o = this.options;
    if (!(error instanceof ProxyError)) o.log.warn({ router: o.label, error: (error as Error)?.message }, 'request failed');
    else if (o.log !== undefined) o.log.debug({ router: o.label, code: error.code, status: error.status }, error.message);
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const r = errorResponse(error, o.limits, o.clearContext);
    const body = Buffer.from(r.body);
    res.writeHead(r.status, [...Object.entries(r.headers).flat(), 'content-length', String(body.length), 'via', viaEntry(req.httpVersion)]);
    res.end(body);
    if (o.accessLog !== undefined) this.#logAccess(req, pr?.uri ?? req.url ?? '/', r.status, String(body.length));
  }

  #logAccess(req: IncomingMessage, uri: string, status: number, length: unknown): void {
    this.options.accessLog!.write({
      host: req.headers.host,
      remote: req.socket.remoteAddress ?? '-',
      timeMs: Date.now(),
      method: req.method ?? '-',
      uri,
      httpVersion: req.httpVersion,
      status,
      length: length === undefined ? undefined : String(length),
      referer: req.headers.referer,
      userAgent: req.headers['user-agent'],
    });
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    let pr: Http1Request;
    try {
      pr = this.#prepare(req, undefined, false);
    } catch (e) {
      writeRawError(socket, errorResponse(e, this.options.limits, this.options.clearContext));
      return;
    }
    handleUpgrade(this, pr, socket, head);
  }
}

/** The error response, with `l5d-*` headers and the body left out at an edge (clearContext). */
export function errorResponse(error: unknown, limits: ErrorLimits, clearContext: boolean): ErrorResponse {
  const r = rescue(error, limits);
  if (!clearContext) return r;
  return { status: r.status, headers: { 'content-type': 'text/plain' }, body: '' };
}

/** Writes a whole error response on a raw socket and closes it. */
export function writeRawError(socket: Socket, r: ErrorResponse): void {
  if (socket.destroyed) return;
  const body = Buffer.from(r.body);
  let head = `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? 'Error'}\r\n`;
  for (const [k, v] of Object.entries(r.headers)) head += `${k}: ${v}\r\n`;
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** A request node could not parse: answered with the matching status, then closed. */
function clientError(e: NodeJS.ErrnoException, socket: Socket, log: Log): void {
  log.debug({ code: e.code, error: e.message }, 'malformed request');
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const code = e.code ?? '';
  let status = 400;
  let text = `Bad request: ${e.message}`;
  if (code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    text = 'Request header fields too large';
  } else if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    text = 'Request headers not received in time';
  } else if (code === 'ECONNRESET' || code === 'EPIPE') {
    socket.destroy();
    return;
  }
  // A half-read request cannot be followed by another on this connection.
  writeRawError(socket, { status, headers: { 'content-type': 'text/plain' }, body: `${text}\n` });
  socket.destroySoon();
}

// The HTTP/1.1 server of a router, on raw sockets: each connection reads requests with the
// strict parser (connection.ts), each request is named and handed to the router core, and the
// endpoint tier writes it on a pooled upstream connection (upstream.ts). Slow request heads
// are cut by a periodic sweep rather than a timer per request.

import { createServer, type Server, type Socket } from 'node:net';
import type { Log } from '../../core/index.ts';
import {
  ConcurrencyLimitError,
  ConnectionFailedError,
  DeadlineExceededError,
  describeRequest,
  IdentificationError,
  ProxyError,
  ProxyLoopError,
  UpstreamError,
} from '../errors.ts';
import { retryableWithoutAnswer } from '../classifier.ts';
import type { Identifier } from '../identifier/index.ts';
import { type ErrorLimits, type ErrorResponse, rescue } from '../rescue.ts';
import { Attempts, type DstDtabCache, RetryRequest, type Router, type Routed } from '../router/index.ts';
import { deadlineRemainingMs, strictestDeadline } from '../trace.ts';
import type { AccessLog } from './access-log.ts';
import type { RecentRequests } from '../recent-requests.ts';
import { recordExchange } from './records.ts';
import { attemptTimedOut, timeOut } from './timeouts.ts';
import type { MetricsRegistry } from '../../metrics/index.ts';
import { ServerStats } from './server-stats.ts';
import { DownstreamConn, STATUS_TEXT } from './connection.ts';
import { viaEntry } from './headers.ts';
import { upstreamHeaders } from './forward.ts';
import { HeadError } from './parse.ts';
import type { Http1Request } from './request.ts';
import type { Http1Endpoint } from './endpoint.ts';
import type { UpstreamConn } from './upstream.ts';

export type Http1Router = Router<Http1Endpoint, Http1Request, void>;

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
  /** linkerd's `io.l5d.recentRequests` sample, when configured. */
  readonly recent?: RecentRequests | undefined;
  /** Where the server's metrics go (`rt/<router>/server/<ip>/<port>/...`). */
  readonly metrics?: MetricsRegistry;
  readonly log: Log;
}


const NOOP = (): void => {};

/** The error response, with `l5d-*` headers and the body left out at an edge (clearContext). */
export function errorResponse(error: unknown, limits: ErrorLimits, clearContext: boolean): ErrorResponse {
  const r = rescue(error, limits);
  if (!clearContext) return r;
  return { status: r.status, headers: { 'content-type': 'text/plain' }, body: '' };
}

export class Http1Server {
  /** Replaced whole on reload; a request keeps the options it started with. */
  #options: Http1ServerOptions;
  readonly server: Server;
  readonly #conns = new Set<DownstreamConn>();
  #inflight = 0;
  draining = false;
  #sweep: NodeJS.Timeout | undefined = undefined;
  #stats: ServerStats | undefined = undefined;
  /** The port listened on (the bound one when configured as 0), kept for after the socket closes. */
  #port: number;

  constructor(options: Http1ServerOptions) {
    this.#options = options;
    this.#port = options.port;
    // A client that half-closes after its request still reads the answer (RFC 9112 §9.6).
    this.server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.#accept(socket));
  }

  get options(): Http1ServerOptions {
    return this.#options;
  }

  get log(): Log {
    return this.#options.log;
  }

  /** Takes new options for requests from now on (same listen address); requests in flight keep their router. */
  reconfigure(options: Http1ServerOptions): void {
    const before = this.#options;
    this.#options = options;
    this.#startSweep();
    // Another router on this address: its metrics go under that router's label, and the old
    // router's scope goes, or its pending and connections gauges would go on reading this server.
    if (options.label !== before.label && this.#stats !== undefined) {
      before.metrics?.removeScope(this.#stats.scope);
      this.#newStats();
    }
  }

  #newStats(): void {
    const m = this.#options.metrics;
    if (m === undefined) return;
    const id = this.id;
    this.#stats = new ServerStats(m, `rt/${this.#options.label}/server/${id}`, id, () => this.#inflight, () => this.#conns.size);
  }

  /** The server as its metrics and the admin pages name it: `<ip>/<port>`, the bound port once listening. */
  get id(): string {
    return `${this.#options.ip}/${this.#port}`;
  }

  /** The scope of the server's metrics (`rt/<router>/server/<ip>/<port>`), once listening with metrics. */
  get statsScope(): string | undefined {
    return this.#stats?.scope;
  }

  get inflight(): number {
    return this.#inflight;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      this.server.listen(this.#options.port, this.#options.ip, () => {
        this.server.off('error', onError);
        this.#port = this.address.port;
        this.#startSweep();
        this.#newStats();
        resolve();
      });
    });
  }

  get address(): { address: string; port: number } {
    return this.server.address() as { address: string; port: number };
  }

  #startSweep(): void {
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    const limit = this.#options.headersTimeoutMs;
    this.#sweep = setInterval(() => this.#cutSlowHeads(), Math.max(25, Math.min(1000, limit / 4)));
    this.#sweep.unref();
  }

  #cutSlowHeads(): void {
    const now = Date.now();
    const limit = this.#options.headersTimeoutMs;
    for (const c of this.#conns) {
      if (c.state === 'head' && c.exchange === undefined && c.headStart !== 0 && now - c.headStart > limit) {
        c.reject(new HeadError(408, 'Request headers not received in time'));
      }
    }
  }

  #accept(socket: Socket): void {
    if (this.draining) {
      socket.destroy();
      return;
    }
    const c = new DownstreamConn(socket, this);
    socket.setTimeout(this.#options.idleTimeoutMs);
    this.#conns.add(c);
  }

  forget(c: DownstreamConn): void {
    this.#conns.delete(c);
  }

  /** Names a request and hands it to the router; errors are answered here. */
  route(pr: Http1Request): void {
    const o = this.#options;
    if (o.maxConcurrentRequests !== undefined && this.#inflight >= o.maxConcurrentRequests) {
      this.#inflight++;
      this.answerError(pr, new ConcurrencyLimitError(o.maxConcurrentRequests));
      return;
    }
    this.#inflight++;
    try {
      if (pr.headers.viaCount > o.maxCallDepth) throw new ProxyLoopError(o.maxCallDepth);
      const id = o.identifier(pr);
      if (id.kind === 'unidentified') {
        const s = pr.conn.socket;
        throw new IdentificationError(describeRequest(pr.method, pr.uri, s.remoteAddress ?? '0.0.0.0', s.remotePort ?? 0), id.reason);
      }
      if (id.uri !== undefined) pr.uri = id.uri;
      pr.dst = { path: id.path, dtabs: o.dtabs.get(pr.headers.ctxDtab, pr.headers.userDtab) };
    } catch (e) {
      this.answerError(pr, e);
      return;
    }
    const service = o.router.serviceOf(pr.dst);
    pr.deadline = strictestDeadline(pr.headers.deadline);
    let left = service.params.totalTimeoutMs ?? Infinity;
    let byDeadline = false;
    if (pr.deadline !== undefined) {
      const remaining = deadlineRemainingMs(pr.deadline);
      if (remaining <= 0) {
        // The caller has given up already: nothing is sent.
        this.answerError(pr, new DeadlineExceededError(pr.dst.path.show));
        return;
      }
      if (remaining < left) {
        left = remaining;
        byDeadline = true;
      }
    }
    // Past setTimeout's range (about 24.8 days) a deadline is as good as none.
    if (left <= 2 ** 31 - 1) pr.timer = setTimeout(timeOut, left, this, pr, byDeadline ? -1 : left);
    // The request's attempts are known from here, so a request no route can carry still counts
    // as a request (and a failure) of its service, as linkerd's path stack counts it.
    pr.attempts = new Attempts(service);
    o.router.dispatch(pr.dst, pr, service, pr.attempts).then(NOOP, (e: unknown) => this.answerError(pr, e));
  }

  /**
   * The endpoint tier: writes the request on a connection to the chosen endpoint. Settles when
   * the response head arrives (or the request fails before it).
   */
  forward(pr: Http1Request, routed: Routed<Http1Endpoint>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      pr.resolve = resolve;
      pr.reject = reject;
      pr.routed = routed;
      pr.client = routed.client;
      routed.endpoint.load++;
      pr.upstreamHead = requestHead(pr, routed);
      this.send(pr, routed, false);
    });
  }

  /** Puts the request on a connection (a fresh one when `fresh`). */
  send(pr: Http1Request, routed: Routed<Http1Endpoint>, fresh: boolean): void {
    if (pr.conn.state === 'closed' || pr.timedOut) {
      // The client left, or the request timed out, while it was being routed.
      this.#drop(pr, routed);
      return;
    }
    // The attempt's time runs from here: waiting for a pooled connection counts.
    const attemptMs = routed.client.params.attemptTimeoutMs;
    if (pr.attemptTimer !== undefined) clearTimeout(pr.attemptTimer);
    pr.attemptTimer =
      attemptMs !== undefined && pr.headers.upgrade === undefined ? setTimeout(attemptTimedOut, attemptMs, this, pr, attemptMs) : undefined;
    try {
      pr.waiter = routed.endpoint.acquire(
        fresh,
        pr.headers.upgrade !== undefined,
        (up) => this.#sendOn(pr, routed, up),
        () => pr.routed === routed && pr.conn.state !== 'closed' && !pr.timedOut,
      );
    } catch (e) {
      if (pr.attemptTimer !== undefined) clearTimeout(pr.attemptTimer);
      pr.attemptTimer = undefined;
      this.#leave(pr, routed);
      const reject = pr.reject;
      pr.reject = undefined;
      if (reject !== undefined) reject(e as Error);
      else this.answerError(pr, e);
    }
  }

  #drop(pr: Http1Request, routed: Routed<Http1Endpoint>): void {
    this.#leave(pr, routed);
    pr.resolve?.();
  }

  /**
   * The request's attempt on `routed` is over: the endpoint's load, and its queue if the request
   * still waits there for a connection, no longer count it.
   */
  #leave(pr: Http1Request, routed: Routed<Http1Endpoint>): void {
    routed.endpoint.load--;
    if (pr.waiter !== undefined) {
      routed.endpoint.abandon(pr.waiter);
      pr.waiter = undefined;
    }
    pr.routed = undefined;
  }

  /** Writes the request on `up` (given now, or later by a full pool). */
  #sendOn(pr: Http1Request, routed: Routed<Http1Endpoint>, up: UpstreamConn): void {
    if (pr.routed !== routed || pr.conn.state === 'closed' || pr.timedOut) {
      // Given too late (waiters are checked, but a request can go in between): the connection
      // goes back as it came, unused.
      if (up.reused) routed.endpoint.idle(up);
      else up.destroy();
      if (pr.routed === routed) this.#drop(pr, routed);
      return;
    }
    pr.waiter = undefined;
    pr.upstream = up;
    pr.attemptStart = performance.now();
    up.start(pr.method, pr, pr.headers.upgrade !== undefined);
    up.write(pr.upstreamHead);
    // A retry of a request whose body was read whole: the kept copy goes again.
    if (pr.bodyCopy !== undefined && pr.bodySent) for (const b of pr.bodyCopy) up.write(b);
    // The body flows once the connection is open: a connection that never opens has taken
    // none of it, so the request can go to another endpoint whole.
    if (up.connected) pr.conn.attached(pr);
    else up.socket.once('connect', () => pr.conn.attached(pr));
  }

  upstreamFailed(pr: Http1Request, error: Error, connected: boolean): void {
    const routed = pr.routed!;
    // This attempt is over: the endpoint's load and health learn of it now, since the router
    // may send the request again elsewhere.
    this.#leave(pr, routed);
    routed.client.observe(routed.endpoint, false, performance.now() - pr.attemptStart, !connected);
    let e: Error;
    if (!connected) {
      const s = routed.client.state;
      const addresses = s.kind === 'bound' ? s.addresses : [routed.endpoint.key];
      e = new ConnectionFailedError(routed.endpoint.key, routed.dst.path, routed.bound.id, addresses, { cause: error });
    } else if (pr.replayable && retryableWithoutAnswer(routed.attempts.service.params.classifier, pr.method) && routed.attempts.tryRetry()) {
      // Written, but never answered: sent again when the classifier would retry a 5XX.
      e = new RetryRequest();
    } else {
      e = new UpstreamError(`${error.message} (${routed.endpoint.key})`, { cause: error });
    }
    const reject = pr.reject;
    pr.reject = undefined;
    if (reject !== undefined) reject(e);
    else this.answerError(pr, e);
  }

  /** An attempt ended without an answer (its timeout): retried when allowed, else answered with `error`. */
  attemptFailed(pr: Http1Request, error: ProxyError): void {
    const routed = pr.routed;
    if (routed === undefined) return;
    this.#leave(pr, routed);
    routed.client.observe(routed.endpoint, false, performance.now() - pr.attemptStart);
    const retry = pr.replayable && retryableWithoutAnswer(routed.attempts.service.params.classifier, pr.method) && routed.attempts.tryRetry();
    const reject = pr.reject;
    pr.reject = undefined;
    if (reject !== undefined) reject(retry ? new RetryRequest() : error);
    else this.answerError(pr, error);
  }

  /** Drops an answer for a retry: the connection goes (its body unread), the router routes again. */
  discard(pr: Http1Request, routed: Routed<Http1Endpoint>): void {
    const up = pr.upstream;
    pr.upstream = undefined;
    up?.destroy();
    this.#leave(pr, routed);
    const reject = pr.reject;
    pr.reject = undefined;
    reject?.(new RetryRequest());
  }

  /** Answers a request the router could not carry, with linkerd's status and text. */
  answerError(pr: Http1Request, error: unknown): void {
    const o = this.#options;
    const conn = pr.conn;
    if (!(error instanceof ProxyError) && !(error instanceof HeadError)) o.log.warn({ router: o.label, error: (error as Error)?.message }, 'request failed');
    if (pr.answered || conn.state === 'closed' || conn.socket.destroyed) {
      conn.abort(pr);
      return;
    }
    pr.answered = true;
    let r: ErrorResponse;
    if (error instanceof HeadError) r = { status: error.status, headers: { 'content-type': 'text/plain' }, body: `${error.message}\n` };
    else r = errorResponse(error, o.limits, o.clearContext);
    const body = Buffer.from(r.body);
    pr.status = r.status;
    pr.responseLength = String(body.length);
    // The unread rest of a request body cannot be skipped safely: such a connection closes.
    if (conn.state === 'body' || this.draining) pr.keepAlive = false;
    let head = `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? 'Error'}\r\n`;
    for (const [k, v] of Object.entries(r.headers)) head += `${k}: ${v}\r\n`;
    head += `content-length: ${body.length}\r\nvia: ${viaEntry(pr.httpVersion)}\r\n`;
    if (!pr.keepAlive) head += 'connection: close\r\n';
    conn.socket.cork();
    conn.socket.write(`${head}\r\n`, 'latin1');
    conn.socket.write(body);
    conn.socket.uncork();
    conn.finish(pr);
  }

  /** Bookkeeping when an exchange ends, however it ends. */
  finished(pr: Http1Request): void {
    this.#inflight--;
    const stats = this.#stats;
    if (stats !== undefined && pr.status !== 0) stats.record(pr);
    if (pr.attempts !== undefined) this.#options.router.record(pr.attempts, pr.client, pr.success);
    if (pr.timer !== undefined) clearTimeout(pr.timer);
    if (pr.attemptTimer !== undefined) clearTimeout(pr.attemptTimer);
    if (pr.status !== 0) recordExchange(this.#options, pr);
    const routed = pr.routed;
    if (routed !== undefined) this.#leave(pr, routed);
    pr.resolve = undefined;
    pr.reject = undefined;
    if (this.draining && this.#inflight === 0) this.#maybeClosed();
  }

  #maybeClosed(): void {
    for (const c of this.#conns) if (c.idle) c.socket.end();
  }

  /**
   * Stops accepting, lets requests in flight finish for up to `graceMs`, then closes every
   * connection left.
   */
  close(graceMs: number): Promise<void> {
    this.draining = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const c of this.#conns) c.socket.destroy();
      }, graceMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        if (this.#sweep !== undefined) clearInterval(this.#sweep);
        // The metrics stay: a reload may have put a server of the same router on this address
        // while this one drained, under the same names, and only the daemon knows.
        resolve();
      });
      for (const c of this.#conns) if (c.idle) c.socket.end();
    });
  }
}


/** The request head sent upstream: request line, forwarded headers and the router's own. */
function requestHead(pr: Http1Request, routed: Routed<Http1Endpoint>): string {
  const headers = upstreamHeaders(pr, routed);
  let text = `${pr.method} ${pr.uri} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${text}\r\n`;
}

// One proxied HTTP/1.1 exchange: the request as read from the client, the router's decision,
// the upstream connection carrying it, and the response streamed back. One object of fixed
// shape per request (STYLE §3.7); it is the upstream connection's sink, so bytes move from
// socket to socket through its methods with no closures per request.

import type { Socket } from 'node:net';
import type { IdentifyRequest } from '../identifier/index.ts';
import { type Attempts, type ClientNode, DEFAULT_SERVICE_PARAMS, type Dst, type Routed } from '../router/index.ts';
import { chunkHeader, LAST_CHUNK } from './chunked.ts';
import type { DownstreamConn } from './connection.ts';
import { hasL5dErr, type InboundHeaders, rawHeader, responseHeaders, viaEntry } from './headers.ts';
import type { Head } from './parse.ts';
import type { Http1Endpoint, Waiter } from './endpoint.ts';
import type { ResponseSink, UpstreamConn } from './upstream.ts';

const CRLF = '\r\n';
const L5D_RETRYABLE = 'l5d-retryable';
const L5D_SUCCESS_CLASS = 'l5d-success-class';
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export class Http1Request implements IdentifyRequest, ResponseSink {
  readonly conn: DownstreamConn;
  readonly head: Head;
  readonly method: string;
  /** Origin form, after an absolute URI was rewritten and an identifier consumed segments. */
  uri: string;
  readonly httpVersion: string;
  readonly headers: InboundHeaders;
  readonly startMs: number;
  dst: Dst | undefined = undefined;
  routed: Routed<Http1Endpoint> | undefined = undefined;
  upstream: UpstreamConn | undefined = undefined;
  /** Its place in the endpoint's queue while it waits for a connection of a full pool. */
  waiter: Waiter | undefined = undefined;
  /** The request head as sent upstream, kept to send again on a fresh connection. */
  upstreamHead = '';
  /** The whole request body has gone upstream. */
  bodySent = false;
  /** An upstream connection is open and takes the body (until then it waits, unread). */
  bodyFlowing = false;
  /** A copy of a small sized body, kept so that a retry can send it again. */
  bodyCopy: Buffer[] | undefined = undefined;
  /** The total timeout passed: the exchange has been answered with 503. */
  timedOut = false;
  timer: NodeJS.Timeout | undefined = undefined;
  /** The current attempt's timeout (`requestAttemptTimeoutMs`). */
  attemptTimer: NodeJS.Timeout | undefined = undefined;
  /** When the current attempt was sent (`performance.now()`), for the endpoint's latency. */
  attemptStart = 0;
  /** The router's record of this request's attempts, and the client it last went to. */
  attempts: Attempts | undefined = undefined;
  client: ClientNode<Http1Endpoint> | undefined = undefined;
  /** The classifier's verdict on the answer given (false until one is). */
  success = false;
  /** The strictest `l5d-ctx-deadline` received, sent on as it is. */
  deadline: string | undefined = undefined;
  /** A response head went downstream: failures from now on can only cut the response short. */
  answered = false;
  status = 0;
  responseLength: string | undefined = undefined;
  /** The response to the client is chunked by us. */
  #chunkOut = false;
  /** The response body is dropped (an error body at an edge). */
  #dropBody = false;
  /**
   * Response bytes held back until the end of the current read from the upstream, so that a
   * head and the body that came with it leave in one write (one syscall, no writev).
   */
  #out: (string | Buffer)[] = [];
  #outBytes = 0;
  #holding = false;
  /** The client connection stays open after this exchange. */
  keepAlive: boolean;
  resolve: (() => void) | undefined = undefined;
  reject: ((e: Error) => void) | undefined = undefined;
  retried = false;

  constructor(conn: DownstreamConn, head: Head, uri: string, headers: InboundHeaders, startMs: number) {
    this.conn = conn;
    this.head = head;
    this.method = head.method;
    this.uri = uri;
    this.httpVersion = head.version;
    this.headers = headers;
    this.startMs = startMs;
    // An upgrade request that is not upgraded ends its connection, whatever the answer.
    this.keepAlive = head.keepAlive && headers.upgrade === undefined;
  }

  header(name: string): string | undefined {
    return rawHeader(this.headers.forward, name);
  }

  get expectContinue(): boolean {
    const e = rawHeader(this.head.raw, 'expect');
    return e !== undefined && e.toLowerCase() === '100-continue';
  }

  /** The request can be sent again whole: no body, or a small sized one kept in full. */
  get replayable(): boolean {
    if (!this.hasBody) return true;
    return this.bodyCopy !== undefined && this.bodySent;
  }

  get hasBody(): boolean {
    return this.head.framing === 'length' || this.head.framing === 'chunked';
  }

  // The upstream's answers, as the connection reads them.

  onContinue(): void {
    if (this.expectContinue && !this.answered) this.conn.socket.write(`HTTP/1.1 100 Continue${CRLF}${CRLF}`);
  }

  onHead(head: Head): void {
    if (this.attemptTimer !== undefined) {
      clearTimeout(this.attemptTimer);
      this.attemptTimer = undefined;
    }
    const conn = this.conn;
    const o = conn.server.options;
    const routed = this.routed;
    const classifier = routed?.attempts.service.params.classifier ?? DEFAULT_SERVICE_PARAMS.classifier;
    const verdict = classifier(this.method, head.status, rawHeader(head.raw, L5D_RETRYABLE) === 'true');
    routed?.client.observe(routed.endpoint, verdict.success, performance.now() - this.attemptStart);
    if (!verdict.success && verdict.retryable && routed !== undefined && this.replayable && routed.attempts.tryRetry()) {
      // Discarded for a retry: the router routes the request afresh after the backoff.
      conn.server.discard(this, routed);
      return;
    }
    this.answered = true;
    this.status = head.status;
    this.success = verdict.success;
    this.responseLength = rawHeader(head.raw, 'content-length');
    const headers = responseHeaders(head.raw, viaEntry(this.httpVersion), o.clearContext);
    // What the classifier made of the answer, for the caller's own statistics (linkerd writes it).
    if (!o.clearContext) headers.push(L5D_SUCCESS_CLASS, verdict.success ? '1.0' : '0.0');
    this.#dropBody = o.clearContext && hasL5dErr(head.raw);
    let framing = '';
    const client11 = this.httpVersion === '1.1';
    if (this.#dropBody) {
      for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === 'content-length') headers[i + 1] = '0';
      if (head.framing === 'chunked' || head.framing === 'close') framing = `content-length: 0${CRLF}`;
    } else if (head.framing === 'chunked' || head.framing === 'close') {
      if (client11) {
        this.#chunkOut = true;
        framing = `transfer-encoding: chunked${CRLF}`;
      } else {
        // An HTTP/1.0 client reads to the end of the connection.
        this.keepAlive = false;
      }
    }
    if (conn.server.draining) this.keepAlive = false;
    let text = `HTTP/1.1 ${head.status} ${head.reason}${CRLF}`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}${CRLF}`;
    text += framing;
    if (!this.keepAlive) text += `connection: close${CRLF}`;
    else if (!client11) text += `connection: keep-alive${CRLF}`;
    this.#emit(`${text}${CRLF}`);
    this.resolve?.();
  }

  onData(slice: Buffer): void {
    if (this.#dropBody) return;
    if (this.#chunkOut) {
      this.#emit(chunkHeader(slice.length));
      this.#emit(slice);
      this.#emit(CRLF);
    } else {
      this.#emit(slice);
    }
  }

  onEnd(): void {
    if (this.#chunkOut) this.#emit(LAST_CHUNK);
    this.#flush();
    const up = this.upstream;
    this.upstream = undefined;
    // A connection whose request body is not all sent cannot carry another request.
    up?.release(this.bodySent && this.headers.upgrade === undefined);
    this.conn.finish(this);
  }

  onUpgrade(head: Head, socket: Socket, rest: Buffer): void {
    this.#flush();
    this.answered = true;
    this.status = head.status;
    this.success = true;
    this.upstream = undefined;
    const routed = this.routed;
    routed?.client.observe(routed.endpoint, true, performance.now() - this.attemptStart);
    this.resolve?.();
    this.conn.upgrade(this, head, socket, rest);
  }

  onError(error: Error, connected: boolean, answered: boolean): void {
    this.#flush();
    if (this.attemptTimer !== undefined) {
      clearTimeout(this.attemptTimer);
      this.attemptTimer = undefined;
    }
    const up = this.upstream;
    this.upstream = undefined;
    if (this.answered) {
      // Mid-response: the client must not take a cut body for a whole one.
      this.conn.abort(this);
      return;
    }
    // A pooled connection the upstream had closed meanwhile: one more try on a fresh one when
    // nothing of a body can have been lost.
    // Only an idempotent request (RFC 9110 §9.2.2): the upstream may have acted on it before closing.
    if (up !== undefined && up.reused && !answered && !this.hasBody && IDEMPOTENT.has(this.method) && !this.retried && this.routed !== undefined) {
      this.retried = true;
      this.conn.server.send(this, this.routed, true);
      return;
    }
    this.conn.server.upstreamFailed(this, error, connected);
  }

  cork(): void {
    this.#holding = true;
  }

  uncork(): void {
    this.#holding = false;
    this.#flush();
  }

  /** Queues response bytes (strings are latin1 text); written at once unless a read is under way. */
  #emit(part: string | Buffer): void {
    this.#out.push(part);
    this.#outBytes += typeof part === 'string' ? part.length : part.length;
    if (!this.#holding) this.#flush();
  }

  /** Writes what is queued as one buffer. */
  #flush(): void {
    const parts = this.#out;
    if (parts.length === 0) return;
    const s = this.conn.socket;
    let ok: boolean;
    if (parts.length === 1) {
      const p = parts[0]!;
      ok = typeof p === 'string' ? s.write(p, 'latin1') : s.write(p);
    } else {
      const buf = Buffer.allocUnsafe(this.#outBytes);
      let at = 0;
      for (const p of parts) at += typeof p === 'string' ? buf.write(p, at, 'latin1') : p.copy(buf, at);
      ok = s.write(buf);
    }
    this.#out = [];
    this.#outBytes = 0;
    // The client reads slower than the upstream writes: stop reading the upstream meanwhile.
    if (!ok) this.upstream?.socket.pause();
  }
}

// One client connection to an HTTP/1.1 server: reads request heads with the strict parser,
// streams each request body upstream with backpressure, and takes requests one at a time
// (a pipelined request waits, unread, until the answer before it is complete).

import type { Socket } from 'node:net';
import { ChunkedDecoder, chunkHeader, LAST_CHUNK } from './chunked.ts';
import { readRequestHeaders, responseHeaders, setRawHeader, viaEntry } from './headers.ts';
import { type Head, headEnd, HeadError, parseRequestHead } from './parse.ts';
import { Http1Request } from './request.ts';
import type { Http1Server } from './server.ts';

type State = 'head' | 'body' | 'wait' | 'upgraded' | 'closed';

/** Sized request bodies up to this are kept for retries; larger ones are never retried. */
const RETRY_BODY_LIMIT = 64 * 1024;

export class DownstreamConn {
  readonly socket: Socket;
  readonly server: Http1Server;
  state: State = 'head';
  /** When the head being read began (0 when none is): slow heads are cut by the server's sweep. */
  headStart: number;
  /** Bytes read but not yet used: a partial head, or what follows the current request. */
  #buf: Buffer | undefined = undefined;
  exchange: Http1Request | undefined = undefined;
  #left = 0;
  #decoder: ChunkedDecoder | undefined = undefined;
  readonly #onData = (chunk: Buffer): void => this.#read(chunk);

  constructor(socket: Socket, server: Http1Server) {
    this.socket = socket;
    this.server = server;
    this.headStart = Date.now();
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('drain', () => this.exchange?.upstream?.socket.resume());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#closed());
    socket.on('end', () => this.#ended());
    // Nothing moved on the connection for idleTimeoutMs: it is closed, unless its request is
    // waiting for the upstream's answer (bounded by the request's own timeouts). A body that
    // stopped flowing, or a response the client stopped reading, is a stall, and ends here.
    socket.on('timeout', () => {
      const pr = this.exchange;
      if (pr !== undefined && this.state === 'wait' && !pr.answered) return;
      socket.destroy();
    });
  }

  /** No request in progress and nothing unread: safe to close when draining. */
  get idle(): boolean {
    return this.state === 'head' && this.#buf === undefined && this.exchange === undefined;
  }

  #read(chunk: Buffer): void {
    if (this.state === 'wait' || this.exchange !== undefined && this.state === 'head') {
      // A pipelined request: kept until the current exchange is over.
      this.#buf = this.#buf === undefined ? chunk : Buffer.concat([this.#buf, chunk]);
      this.socket.pause();
      return;
    }
    this.#process(chunk);
  }

  #process(chunk: Buffer): void {
    let buf = chunk;
    while (buf.length > 0 && this.state !== 'closed') {
      if (this.state === 'head') {
        if (this.exchange !== undefined) {
          this.#buf = buf;
          this.socket.pause();
          return;
        }
        const prev = this.#buf;
        const all = prev === undefined ? buf : Buffer.concat([prev, buf]);
        if (this.headStart === 0) this.headStart = Date.now();
        const limit = this.server.options.maxHeadersKB * 1024;
        const end = headEnd(all, prev === undefined ? 0 : prev.length);
        if (end < 0 || end > limit + 4) {
          if (all.length > limit + 4) return this.reject(new HeadError(431, 'Request header fields too large'));
          // Bytes that cannot begin a request line (TLS, binary noise) are refused at once
          // rather than waited on until the head timeout.
          if (!requestLinePrefix(all, limit)) return this.reject(new HeadError(400, 'not an HTTP/1.x request'));
          this.#buf = all;
          return;
        }
        this.#buf = undefined;
        this.headStart = 0;
        let head: Head;
        try {
          head = parseRequestHead(all.toString('latin1', 0, end - 4));
        } catch (e) {
          if (e instanceof HeadError) return this.reject(e);
          throw e;
        }
        buf = all.subarray(end);
        this.#begin(head);
        // The body waits until the exchange has an upstream to send it to.
        if ((this.state as State) === 'body' && (this.exchange as Http1Request | undefined)?.bodyFlowing !== true) {
          this.#buf = buf.length > 0 ? buf : undefined;
          this.socket.pause();
          return;
        }
        continue;
      }
      if (this.state === 'body') {
        buf = this.#body(buf);
        continue;
      }
      // Waiting for the response, or upgraded: keep what came.
      this.#buf = this.#buf === undefined ? buf : Buffer.concat([this.#buf, buf]);
      this.socket.pause();
      return;
    }
  }

  #begin(head: Head): void {
    const server = this.server;
    const o = server.options;
    const headers = readRequestHeaders(head.raw, o.clearContext);
    let uri = head.target;
    const absolute = splitAbsoluteUri(uri);
    if (absolute !== undefined) {
      uri = absolute.path;
      setRawHeader(headers.forward, 'host', 'Host', absolute.authority);
    }
    const pr = new Http1Request(this, head, uri, headers, Date.now());
    this.exchange = pr;
    if (head.framing === 'length') {
      this.#left = head.length;
      this.state = 'body';
      // A small body is kept as it goes, so that a retry can send it again.
      if (head.length <= RETRY_BODY_LIMIT) pr.bodyCopy = [];
    } else if (head.framing === 'chunked') {
      this.#decoder = new ChunkedDecoder();
      this.state = 'body';
    } else {
      pr.bodySent = true;
      this.state = 'wait';
    }
    server.route(pr);
  }

  /** Sends what of `buf` belongs to the request body upstream; returns the rest. */
  #body(buf: Buffer): Buffer {
    const pr = this.exchange;
    const up = pr?.upstream;
    if (pr === undefined || up === undefined) {
      // The exchange ended (an error was answered): the body is read and dropped.
      return this.#skip(buf);
    }
    if (!pr.bodyFlowing) {
      // No connection has opened yet: the body waits for one.
      this.#buf = this.#buf === undefined ? buf : Buffer.concat([this.#buf, buf]);
      this.socket.pause();
      return Buffer.alloc(0);
    }
    let ok = true;
    let rest: Buffer;
    if (this.#decoder !== undefined) {
      let used: number;
      // Each chunk is three writes: corked, they leave in one syscall.
      up.socket.cork();
      try {
        used = this.#decoder.decode(buf, (slice) => {
          up.write(chunkHeader(slice.length));
          up.write(slice);
          ok = up.write('\r\n') && ok;
        });
      } catch (e) {
        up.socket.uncork();
        this.#badBody(pr, e as Error);
        return Buffer.alloc(0);
      }
      rest = buf.subarray(used);
      if (this.#decoder.done) {
        up.write(LAST_CHUNK);
        this.#bodyDone(pr);
      }
      up.socket.uncork();
    } else {
      const take = Math.min(this.#left, buf.length);
      const slice = take === buf.length ? buf : buf.subarray(0, take);
      pr.bodyCopy?.push(slice);
      ok = up.write(slice);
      this.#left -= take;
      rest = buf.subarray(take);
      if (this.#left === 0) this.#bodyDone(pr);
    }
    if (!ok && this.state === 'body') {
      // The upstream reads slower than the client writes: stop reading the client meanwhile.
      this.socket.pause();
      up.socket.once('drain', () => {
        if (this.exchange === pr) this.socket.resume();
      });
    }
    return rest;
  }

  #skip(buf: Buffer): Buffer {
    if (this.#decoder !== undefined) {
      try {
        const used = this.#decoder.decode(buf, () => {});
        if (this.#decoder.done) this.#decoder = undefined;
        if (this.#decoder === undefined) this.state = 'wait';
        return buf.subarray(used);
      } catch {
        this.socket.destroy();
        return Buffer.alloc(0);
      }
    }
    const take = Math.min(this.#left, buf.length);
    this.#left -= take;
    if (this.#left === 0) this.state = 'wait';
    return buf.subarray(take);
  }

  #bodyDone(pr: Http1Request): void {
    pr.bodySent = true;
    this.#decoder = undefined;
    this.state = 'wait';
  }

  #badBody(pr: Http1Request, e: Error): void {
    pr.upstream?.destroy();
    pr.upstream = undefined;
    if (pr.answered) {
      this.socket.destroy();
      return;
    }
    pr.keepAlive = false;
    this.server.answerError(pr, new HeadError(400, `malformed chunked body: ${e.message}`));
  }

  /** The exchange has an upstream connection: the body, if any, may flow. */
  attached(pr: Http1Request): void {
    if (this.exchange !== pr || this.state !== 'body') return;
    pr.bodyFlowing = true;
    const buf = this.#buf;
    this.#buf = undefined;
    this.socket.resume();
    if (buf !== undefined) this.#process(buf);
  }

  /** The exchange is over (its response complete): the next request, or the end. */
  finish(pr: Http1Request): void {
    if (this.exchange !== pr) return;
    this.server.finished(pr);
    this.exchange = undefined;
    // A request body not read to its end cannot be told from the next request: close.
    if (!pr.keepAlive || this.state === 'body' || this.state === 'closed') {
      this.state = 'closed';
      this.socket.end();
      return;
    }
    if (this.state === 'wait') this.state = 'head';
    if (this.server.draining && this.#buf === undefined) {
      // Shutting down: a connection between requests is closed now.
      this.state = 'closed';
      this.socket.end();
      return;
    }
    const buf = this.#buf;
    this.#buf = undefined;
    this.socket.resume();
    if (buf !== undefined) this.#process(buf);
  }

  /** Cuts the connection short: a response already begun cannot be completed. */
  abort(pr: Http1Request): void {
    if (this.exchange === pr) this.server.finished(pr);
    this.exchange = undefined;
    this.state = 'closed';
    this.socket.destroy();
  }

  /** An unreadable request: answered with its status, and the connection closed. */
  reject(e: HeadError): void {
    this.state = 'closed';
    this.server.log.debug({ status: e.status, error: e.message }, 'malformed request');
    const body = `${e.message}\n`;
    const reason = STATUS_TEXT[e.status] ?? 'Error';
    this.socket.end(`HTTP/1.1 ${e.status} ${reason}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }

  /** The upstream switched protocols: the two sockets are joined, both ways. */
  upgrade(pr: Http1Request, head: Head, up: Socket, rest: Buffer): void {
    const o = this.server.options;
    this.state = 'upgraded';
    this.server.finished(pr);
    this.exchange = undefined;
    const headers = responseHeaders(head.raw, viaEntry(pr.httpVersion), o.clearContext, true);
    let text = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    const down = this.socket;
    down.removeListener('data', this.#onData);
    down.removeAllListeners('drain');
    down.removeAllListeners('timeout');
    // A tunnel may sit idle for long (a quiet WebSocket): only the two ends decide when it closes.
    down.setTimeout(0);
    down.write(`${text}\r\n`, 'latin1');
    if (rest.length > 0) down.write(rest);
    const pending = this.#buf;
    this.#buf = undefined;
    if (pending !== undefined) up.write(pending);
    up.on('error', () => down.destroy());
    up.once('close', () => down.destroy());
    down.once('close', () => up.destroy());
    up.pipe(down);
    down.pipe(up);
    down.resume();
    up.resume();
  }

  /** The client sends no more: what it asked is still answered, then the connection closes. */
  #ended(): void {
    const pr = this.exchange;
    if (pr === undefined) {
      if (this.state !== 'upgraded') {
        this.state = 'closed';
        this.socket.end();
      }
      return;
    }
    // A client that closes its side before the answer has begun is taken as gone, as nginx and
    // linkerd take it: the upstream attempt, and any retry pending, are cancelled. One that
    // closes while the answer streams still gets the rest of it. A body cut short cannot be
    // sent on either way.
    if (this.state === 'body' || !pr.answered) this.socket.destroy();
    else pr.keepAlive = false;
  }

  #closed(): void {
    const pr = this.exchange;
    const prev = this.state;
    this.state = 'closed';
    this.server.forget(this);
    if (pr === undefined || prev === 'upgraded') return;
    this.exchange = undefined;
    // The client went away: the upstream exchange is aborted.
    pr.upstream?.destroy();
    pr.upstream = undefined;
    this.server.finished(pr);
  }
}

export const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

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

// The start of a request line: a method token, then a target without spaces or controls.
const REQUEST_LINE_START = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}(?: [^\x00-\x20\x7f]*(?: [\x21-\x7e]*)?)?$/;

/** Whether the bytes of an unfinished head can still become a request line. */
function requestLinePrefix(buf: Buffer, limit: number): boolean {
  const cr = buf.indexOf(13);
  const end = cr >= 0 ? cr : buf.length;
  // Past the first line, the parser judges the rest when the head is complete.
  return end <= limit && REQUEST_LINE_START.test(buf.toString('latin1', 0, end));
}

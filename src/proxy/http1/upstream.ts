// The client side of HTTP/1.1: a connection to one upstream endpoint (pooled by endpoint.ts),
// reading its responses with the strict head parser and handing what it reads to the exchange
// that owns it. No stream objects in between: bytes go from socket to socket.

import { connect, type Socket } from 'node:net';
import { ChunkedDecoder } from './chunked.ts';
import type { Http1Endpoint } from './endpoint.ts';
import { type Head, headEnd, HeadError, parseResponseHead } from './parse.ts';

/** What an upstream connection reports to the exchange that owns it. */
export interface ResponseSink {
  /** 100 Continue arrived. */
  onContinue(): void;
  /** The final response head (never 1xx but 101). */
  onHead(head: Head): void;
  onData(slice: Buffer): void;
  onEnd(): void;
  /** The upstream agreed to switch protocols: the socket is the exchange's from now on. */
  onUpgrade(head: Head, socket: Socket, rest: Buffer): void;
  /** The connection failed; `connected` tells whether it ever opened, `answered` whether a response began. */
  onError(error: Error, connected: boolean, answered: boolean): void;
  /** Around a batch of calls from one read, so that writes go out together. */
  cork(): void;
  uncork(): void;
}

const MAX_RESPONSE_HEAD = 64 * 1024;

/** Where pooled connections read: one buffer for all, as each read is handled before the next. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

type State = 'idle' | 'head' | 'body' | 'done' | 'closed';

export class UpstreamConn {
  readonly socket: Socket;
  readonly endpoint: Http1Endpoint;
  sink: ResponseSink | undefined = undefined;
  connected = false;
  /** Taken from the pool: the peer may have closed it meanwhile. */
  reused = false;
  /** Whether the response allows the connection to be used again. */
  keepAlive = false;
  /** When it was last put back in the pool (for the idle sweep). */
  idleSince = 0;
  /** Counted in its endpoint's pool size until it closes. */
  counted = true;
  #state: State = 'idle';
  #buf: Buffer | undefined = undefined;
  #method = 'GET';
  #left = 0;
  #framing: Head['framing'] = 'none';
  #decoder: ChunkedDecoder | undefined = undefined;
  #answered = false;
  /** The request asked to switch protocols: only then is a 101 an answer. */
  #upgrade = false;
  readonly #onData = (chunk: Buffer): void => this.#read(chunk);

  /**
   * `tunnel` connections (upgrades) are read as streams, so that they can be piped once the
   * upstream switches protocols; the others read into one shared buffer, past node's stream
   * machinery, and copy out only what they keep.
   */
  constructor(endpoint: Http1Endpoint, tunnel = false) {
    this.endpoint = endpoint;
    const a = endpoint.address;
    this.socket = tunnel
      ? connect({ host: a.host, port: a.port, noDelay: true })
      : connect({ host: a.host, port: a.port, noDelay: true, onread: { buffer: READ_BUFFER, callback: (n, buf) => this.#readInto(n, buf) } });
    this.socket.once('connect', () => {
      this.connected = true;
    });
    if (tunnel) this.socket.on('data', this.#onData);
    this.socket.on('error', (e) => this.#fail(e, true));
    this.socket.on('close', (hadError) => this.#fail(new Error('connection closed by the upstream'), hadError));
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Expects the response to a request of `method`, reported to `sink`. */
  start(method: string, sink: ResponseSink, upgrade: boolean): void {
    this.#method = method;
    this.#upgrade = upgrade;
    this.sink = sink;
    this.#state = 'head';
    this.#answered = false;
    this.keepAlive = false;
    // Paused for a slow client during its last exchange, perhaps.
    this.socket.resume();
  }

  /** Writes bytes, or a string of latin1 text (heads carry bytes, not UTF-8). */
  write(data: string | Buffer): boolean {
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  #readInto(n: number, buf: Uint8Array): boolean {
    // The shared buffer is overwritten by the next read: what is kept must be a copy.
    this.#read(Buffer.from(buf.subarray(0, n)));
    return !this.socket.isPaused();
  }

  #read(chunk: Buffer): void {
    const sink = this.sink;
    if (sink === undefined || this.#state === 'idle' || this.#state === 'done') {
      // Bytes nobody asked for: the connection cannot be trusted with another request.
      this.socket.destroy();
      return;
    }
    sink.cork();
    try {
      this.#consume(chunk, sink);
    } catch (e) {
      const error = e instanceof HeadError ? e : new Error(`invalid response: ${(e as Error).message}`);
      this.socket.destroy();
      this.#fail(error, true);
    } finally {
      sink.uncork();
    }
  }

  #consume(chunk: Buffer, sink: ResponseSink): void {
    let buf = chunk;
    while (buf.length > 0) {
      if (this.#state === 'head') {
        const prev = this.#buf;
        const all = prev === undefined ? buf : Buffer.concat([prev, buf]);
        const end = headEnd(all, prev === undefined ? 0 : prev.length);
        if (end < 0) {
          if (all.length > MAX_RESPONSE_HEAD) throw new HeadError(502, 'response head too large');
          this.#buf = all;
          return;
        }
        this.#buf = undefined;
        this.#answered = true;
        const head = parseResponseHead(all.toString('latin1', 0, end - 4), this.#method);
        buf = all.subarray(end);
        if (head.status === 100) {
          sink.onContinue();
          continue;
        }
        if (head.status === 101) {
          // A protocol the client never asked for (RFC 9110 §15.2.2) would make the client's
          // connection a raw pipe to the upstream, past the router.
          if (!this.#upgrade) throw new HeadError(502, 'the upstream switched protocols unasked');
          this.#state = 'closed';
          this.socket.removeListener('data', this.#onData);
          this.socket.removeAllListeners('close');
          this.socket.removeAllListeners('error');
          this.socket.removeAllListeners('timeout');
          this.endpoint.forget(this);
          sink.onUpgrade(head, this.socket, buf);
          return;
        }
        // Other informational answers (102, 103) are not passed on.
        if (head.status < 200) continue;
        this.keepAlive = head.keepAlive;
        this.#framing = head.framing;
        this.#left = head.length;
        if (head.framing === 'chunked') this.#decoder = new ChunkedDecoder();
        this.#state = 'body';
        sink.onHead(head);
        // The exchange may have discarded this answer (for a retry) and closed the connection.
        if (this.#state !== 'body') return;
        if (head.framing === 'none') {
          this.#finish(sink, buf);
          return;
        }
        continue;
      }
      if (this.#state !== 'body') return;
      switch (this.#framing) {
        case 'length': {
          const take = Math.min(this.#left, buf.length);
          sink.onData(take === buf.length ? buf : buf.subarray(0, take));
          this.#left -= take;
          buf = buf.subarray(take);
          if (this.#left === 0) {
            this.#finish(sink, buf);
            return;
          }
          break;
        }
        case 'chunked': {
          const d = this.#decoder!;
          const used = d.decode(buf, (slice) => sink.onData(slice));
          buf = buf.subarray(used);
          if (d.done) {
            this.#finish(sink, buf);
            return;
          }
          break;
        }
        case 'close':
          sink.onData(buf);
          return;
        default:
          return;
      }
    }
  }

  #finish(sink: ResponseSink, rest: Buffer): void {
    this.#state = 'done';
    this.#decoder = undefined;
    // Bytes past the response: the peer is confused; never reuse this connection.
    if (rest.length > 0) this.keepAlive = false;
    sink.onEnd();
  }

  #fail(e: Error, hadError: boolean): void {
    if (this.#state === 'closed') return;
    const state = this.#state;
    this.#state = 'closed';
    this.endpoint.forget(this);
    this.socket.destroy();
    const sink = this.sink;
    this.sink = undefined;
    if (sink === undefined || state === 'done' || state === 'idle') return;
    if (state === 'body' && this.#framing === 'close' && !hadError) {
      // The connection's end is the body's end; a reset is no end, but a cut.
      sink.onEnd();
      return;
    }
    sink.onError(e, this.connected, this.#answered);
  }

  /** Back to the pool when the exchange is over and the connection can be used again. */
  release(reusable: boolean): void {
    this.sink = undefined;
    if (!reusable || !this.keepAlive || this.#state !== 'done') {
      this.#state = 'closed';
      this.endpoint.forget(this);
      this.socket.destroy();
      return;
    }
    this.#state = 'idle';
    // Paused for a slow client during the exchange, perhaps: an idle connection must see its
    // peer close it.
    this.socket.resume();
    this.endpoint.idle(this);
  }

  /** Aborts the exchange: the upstream sees the connection close. */
  destroy(): void {
    this.sink = undefined;
    this.#state = 'closed';
    this.endpoint.forget(this);
    this.socket.destroy();
  }
}

// Raw TCP peers for what an HTTP library will not produce: malformed, hostile or half-finished
// requests written byte for byte with everything that comes back collected, a minimal reader
// of the responses received, and an upstream that answers with exactly the bytes it is told.

import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { eventually, type RunningDaemon } from './proxy.ts';

/** Opens a connection to `127.0.0.1:port`. */
export function connectRaw(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

export interface RawReply {
  /** Every byte received, in order. */
  readonly data: Buffer;
  /** The peer ended or reset the connection before the wait was over. */
  readonly closed: boolean;
  /** The socket error the connection ended on (ECONNRESET, EPIPE), if any. */
  readonly error: string | undefined;
  /** Milliseconds from connecting to the close, or to giving up. */
  readonly ms: number;
  /** How many of the parts were written before the connection closed. */
  readonly written: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A part of `rawExchange` that ends the sending side (a half-close) and keeps reading. */
export const HALF_CLOSE = Symbol('half-close');

export type RawPart = string | Buffer | number | typeof HALF_CLOSE;

/**
 * Connects, writes `parts` in order (a number is a pause of that many ms, HALF_CLOSE ends the
 * sending side) and collects what comes back until the peer closes the connection or `waitMs`
 * pass after the last part; then the connection is destroyed. Writing stops as soon as the
 * peer has closed.
 */
export async function rawExchange(port: number, parts: readonly RawPart[], waitMs = 1000): Promise<RawReply> {
  const start = Date.now();
  const s = await connectRaw(port);
  const chunks: Buffer[] = [];
  let closed = false;
  let error: string | undefined;
  let closedAt = 0;
  let wake: (() => void) | undefined;
  s.on('data', (c: Buffer) => chunks.push(c));
  s.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
  const onGone = (): void => {
    if (closed) return;
    closed = true;
    closedAt = Date.now();
    wake?.();
  };
  // A half-close from the peer is the end of its answer: nothing more can arrive.
  s.on('end', onGone);
  s.on('close', onGone);
  let written = 0;
  for (const p of parts) {
    if (closed) break;
    if (typeof p === 'number') await sleep(p);
    else if (p === HALF_CLOSE) s.end();
    else {
      s.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
      written++;
    }
  }
  if (!closed) {
    await new Promise<void>((r) => {
      const t = setTimeout(r, waitMs);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }
  s.destroy();
  return { data: Buffer.concat(chunks), closed, error, ms: (closed ? closedAt : Date.now()) - start, written };
}

export interface RawResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** The body was delimited (Content-Length or a last chunk) and arrived whole. */
  readonly complete: boolean;
}

/** The responses in `data`, in order: framed by Content-Length, chunked, or read to the end. */
export function parseResponses(data: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd < 0) break;
    const lines = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
    if (m === null) break;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const status = Number(m[1]);
    at = headEnd + 4;
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      out.push({ status, headers, body: Buffer.alloc(0), complete: true });
      continue;
    }
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      const body = data.subarray(at, at + n);
      out.push({ status, headers, body, complete: body.length === n });
      at += n;
      continue;
    }
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      let complete = false;
      while (at < data.length) {
        const eol = data.indexOf('\r\n', at, 'latin1');
        if (eol < 0) break;
        const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
        if (Number.isNaN(size)) break;
        if (size === 0) {
          const end = data.indexOf('\r\n\r\n', eol, 'latin1');
          complete = end >= 0;
          at = complete ? end + 4 : data.length;
          break;
        }
        parts.push(data.subarray(eol + 2, eol + 2 + size));
        at = eol + 2 + size + 2;
      }
      out.push({ status, headers, body: Buffer.concat(parts), complete });
      continue;
    }
    out.push({ status, headers, body: data.subarray(at), complete: false });
    at = data.length;
  }
  return out;
}

export interface RawUpstream {
  readonly server: Server;
  readonly port: number;
  /** Request heads received, as text. */
  readonly heads: string[];
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * A TCP server that reads each connection's first request head and hands the socket to
 * `onHead`, which writes whatever bytes it likes (a torn response, a reset).
 */
export async function rawUpstream(onHead: (socket: Socket, head: string) => void): Promise<RawUpstream> {
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = '';
    let done = false;
    socket.on('data', (c: Buffer) => {
      if (done) return;
      buf += c.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      done = true;
      const head = buf.slice(0, end);
      heads.push(head);
      onHead(socket, head);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as { port: number }).port,
    heads,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A port on loopback that nothing listens on (bound for a moment, then released). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** `l5d-err` decoded as linkerd encodes it (Java's URLEncoder). */
export function l5dErr(headers: Record<string, string | string[] | undefined>): string {
  const v = headers['l5d-err'];
  assert.equal(typeof v, 'string', 'l5d-err header');
  return decodeURIComponent((v as string).replace(/\+/g, ' '));
}

/** Requests in flight on the daemon's server and on every upstream endpoint. */
export function inflight(d: RunningDaemon): { server: number; endpoints: number } {
  let server = 0;
  for (const s of d.daemon.servers().values()) server += s.inflight;
  let endpoints = 0;
  for (const r of d.daemon.routers().values()) for (const e of r.router.endpoints.endpoints()) endpoints += e.load;
  return { server, endpoints };
}

export async function drained(d: RunningDaemon): Promise<void> {
  await eventually(() => {
    const n = inflight(d);
    return n.server === 0 && n.endpoints === 0;
  }, 2000, 'no request left in flight');
}

/** Bytes from a fixed seed: the same garbage every run. */
export function noise(length: number, seed = 0x2545f491): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Writes `text` on a new connection and returns all that comes back until the peer closes. */
export function rawText(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (c: string) => (out += c));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

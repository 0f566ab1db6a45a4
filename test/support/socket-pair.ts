// A connected pair of TCP sockets on loopback whose accepted side is handed over by descriptor,
// as the admin server hands a scraper's socket to the export thread, and a strict reader of
// the HTTP/1.1 chunks written to it.

import assert from 'node:assert/strict';
import { fstatSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { SocketTarget } from '../../src/metrics/fd-writer.ts';

interface Handle {
  fd: number;
  readStop(): number;
}

export interface SocketPair {
  /** The accepted side, whose descriptor is given as `to` (not read meanwhile). */
  readonly server: Socket;
  readonly to: SocketTarget;
  /** The reader, paused until a test resumes it, so that the server's send buffer fills. */
  readonly client: Socket;
  /** Closes both sockets and the listener. */
  close(): void;
}

export async function socketPair(): Promise<SocketPair> {
  const listener: Server = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const client = connect((listener.address() as { port: number }).port, '127.0.0.1');
  client.on('error', () => {});
  client.pause();
  const server = await accepted;
  server.on('error', () => {});
  const handle = (server as unknown as { _handle: Handle })._handle;
  handle.readStop();
  const close = (): void => {
    server.destroy();
    client.destroy();
    listener.close();
  };
  return { server, to: { fd: handle.fd, ino: fstatSync(handle.fd).ino }, client, close };
}

/** Everything the client reads until its connection closes. */
export function readAll(client: Socket): Promise<Buffer> {
  const got: Buffer[] = [];
  client.on('data', (c: Buffer) => got.push(c));
  client.resume();
  return new Promise((resolve) => client.on('close', () => resolve(Buffer.concat(got))));
}

/** The data of a run of HTTP/1.1 chunks (no last chunk), checking the framing as it goes; each chunk's size goes to `sizes`. */
export function unchunk(bytes: Buffer, sizes: number[] = []): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const eol = bytes.indexOf('\r\n', at);
    assert.ok(eol > at, `a chunk size line at byte ${at}`);
    const size = Number.parseInt(bytes.subarray(at, eol).toString('latin1'), 16);
    assert.ok(size > 0, `a chunk size at byte ${at}, and no empty chunk`);
    parts.push(bytes.subarray(eol + 2, eol + 2 + size));
    sizes.push(size);
    assert.equal(bytes.subarray(eol + 2 + size, eol + 4 + size).toString('latin1'), '\r\n', 'each chunk ends in CRLF');
    at = eol + 4 + size;
  }
  return Buffer.concat(parts);
}

// A metrics scrape sent by the export thread straight to the scraper's socket. The event loop
// writes the head, stops reading the socket and hands the thread its descriptor; the thread
// writes the body as HTTP/1.1 chunks (metrics/fd-writer.ts); the event loop then reads again
// and ends the response. So a scrape of megabytes costs the event loop a head and a last
// chunk, not a write of each 64 KiB (the largest part of what a scrape every second cost the
// proxy's p99, bench/RESULTS.md). Where the thread cannot (not Linux, HTTP/1.0, HEAD, a
// response waiting behind another on the connection, a thread that does not run), the body
// is sent the usual way, from chunks the thread or the event loop fills.

import { fstatSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ExportOf, ExportThread } from '../metrics/index.ts';
import { sendStream, streamBody } from './respond.ts';

/** What node:net keeps of a TCP socket's libuv handle (internals, checked before use). */
interface TcpHandle {
  readonly fd?: number;
  /** Whether node:net means the socket to be read (it may pause it meanwhile). */
  readonly reading?: boolean;
  readonly writeQueueSize?: number;
  readStop?(): number;
  readStart?(): number;
}

type HeldSocket = Socket & { readonly _handle?: TcpHandle | null; readonly _httpMessage?: unknown };

/** The socket's handle, if the thread can write to it now: nothing else waits to be written first. */
function writable(res: ServerResponse): TcpHandle | undefined {
  const socket = res.socket as HeldSocket | null;
  const handle = socket?._handle;
  if (socket === null || socket === undefined || handle === null || handle === undefined) return undefined;
  if (socket._httpMessage !== res || socket.destroyed || socket.writableLength > 0 || handle.writeQueueSize !== 0) return undefined;
  if (typeof handle.fd !== 'number' || handle.fd < 0 || typeof handle.readStop !== 'function' || typeof handle.readStart !== 'function') return undefined;
  return handle;
}

/**
 * Answers a scrape with `what`: written by the export thread to the socket where it can, else
 * streamed (`release` gives each chunk sent back to where it came from).
 */
export async function sendExport(req: IncomingMessage, res: ServerResponse, type: string, exporter: ExportThread, what: ExportOf, release: (chunk: Buffer) => void): Promise<void> {
  const produce = (out: (chunk: Buffer) => void): Promise<void> => (what.format === 'json' ? exporter.json(what.under, out) : exporter.prometheus(what.prefix, out));
  if (!exporter.threaded || process.platform !== 'linux' || req.method !== 'GET' || req.httpVersion !== '1.1' || writable(res) === undefined) {
    return sendStream(res, 200, type, produce, release);
  }
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  // The head is written at once to a socket with nothing queued; if it was not, it is in the way.
  const handle = writable(res);
  if (handle === undefined) return streamBody(res, produce, release);
  const socket = res.socket!;
  const fd = handle.fd!;
  let ino: number;
  try {
    ino = fstatSync(fd).ino;
  } catch {
    return streamBody(res, produce, release);
  }
  // Not read while the thread holds the descriptor: an end of stream read now would close it.
  handle.readStop!();
  const resume = (): void => {
    if ((socket as HeldSocket)._handle === handle && !socket.destroyed && handle.reading === true) handle.readStart!();
  };
  let written: boolean;
  try {
    written = await exporter.writeTo(what, { fd, ino });
  } catch {
    // Cut short (the reader went away or stalled, or the thread failed): the thread has let go,
    // and the client sees the connection close, not a short document.
    socket.destroy();
    return;
  }
  resume();
  if (written) res.end();
  else await streamBody(res, produce, release);
}

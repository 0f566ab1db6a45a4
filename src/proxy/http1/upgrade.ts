// `Upgrade` requests (WebSocket and others) tunnelled both ways: the request is routed like
// any other, sent upstream on a connection of its own, and once the upstream answers 101 the
// two sockets are joined. Any other answer is passed back and the connection closed.

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Routed } from '../router/index.ts';
import type { Http1Endpoint } from './endpoint.ts';
import { connectionFailed, openUpstream, viaEntry } from './forward.ts';
import { hasL5dErr, responseHeaders } from './headers.ts';
import type { Http1Request } from './request.ts';
import { errorResponse, type Http1Server, writeRawError } from './server.ts';

function rawHead(status: number, message: string | undefined, headers: readonly string[]): Buffer {
  let head = `HTTP/1.1 ${status} ${message ?? ''}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}

export function handleUpgrade(server: Http1Server, pr: Http1Request, socket: Socket, head: Buffer): void {
  const o = server.options;
  socket.on('error', () => socket.destroy());
  // A tunnel may sit idle for long (a quiet WebSocket): only the ends decide when to close it.
  socket.setTimeout(0);
  o.router.resolve(pr.dst!).then(
    (routed) => tunnel(server, pr, routed, socket, head),
    (e) => writeRawError(socket, errorResponse(e, o.limits, o.clearContext)),
  );
}

function tunnel(server: Http1Server, pr: Http1Request, routed: Routed<Http1Endpoint>, socket: Socket, head: Buffer): void {
  const o = server.options;
  if (socket.destroyed) return;
  const ep = routed.endpoint;
  ep.load++;
  const up = openUpstream(pr, routed);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    ep.load--;
  };
  socket.once('close', () => {
    up.destroy();
    release();
  });
  up.on('upgrade', (res: IncomingMessage, upSocket: Socket, upHead: Buffer) => {
    const headers = responseHeaders(res.rawHeaders, viaEntry(pr.httpVersion), o.clearContext, true);
    socket.write(rawHead(res.statusCode ?? 101, res.statusMessage, headers));
    if (upHead.length > 0) socket.write(upHead);
    if (head.length > 0) upSocket.write(head);
    upSocket.on('error', () => socket.destroy());
    upSocket.once('close', () => {
      socket.destroy();
      release();
    });
    socket.once('close', () => upSocket.destroy());
    upSocket.pipe(socket);
    socket.pipe(upSocket);
  });
  up.on('response', (res: IncomingMessage) => {
    // Not upgraded: the answer goes back as it is, delimited by closing the connection.
    const headers = responseHeaders(res.rawHeaders, viaEntry(pr.httpVersion), o.clearContext);
    headers.push('connection', 'close');
    socket.write(rawHead(res.statusCode ?? 502, res.statusMessage, headers));
    if (o.clearContext && hasL5dErr(res.rawHeaders)) {
      res.resume();
      socket.end();
      return;
    }
    res.pipe(socket);
    res.once('error', () => socket.destroy());
  });
  up.on('error', (e) => {
    release();
    if (!socket.destroyed && socket.bytesWritten === 0) writeRawError(socket, errorResponse(connectionFailed(e, routed), o.limits, o.clearContext));
    else socket.destroy();
  });
  up.end();
}

// The endpoint service of HTTP/1.1: writes the request to a pooled connection of the chosen
// endpoint with the router's headers (spec/linkerd.md §6), streams the body with backpressure,
// and resolves with the upstream response as soon as its head arrives. Failures before any
// response are ConnectionFailedError (502, safe to retry); the downstream side going away
// aborts the upstream exchange.

import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import { ConnectionFailedError, ProxyError } from '../errors.ts';
import type { Routed } from '../router/index.ts';
import { nextTrace, readTrace, strictestDeadline, writeTrace } from '../trace.ts';
import type { Http1Endpoint } from './endpoint.ts';
import type { Http1Request } from './request.ts';

/** The `Via` entry this hop adds, by the request's HTTP version. */
export function viaEntry(httpVersion: string): string {
  return httpVersion === '1.0' ? '1.0 linkerd' : '1.1 linkerd';
}

/** The headers sent upstream: those forwarded plus the router's own. */
export function upstreamHeaders(pr: Http1Request, routed: Routed<Http1Endpoint>): string[] {
  const h = pr.headers;
  const out = h.forward;
  const dst = routed.dst;
  out.push('l5d-dst-service', dst.path.show, 'l5d-dst-client', routed.bound.id.show);
  if (!routed.bound.residual.isEmpty) out.push('l5d-dst-residual', routed.bound.residual.show);
  const trace = nextTrace(readTrace(h.trace));
  out.push('l5d-ctx-trace', writeTrace(trace), 'l5d-reqid', trace.traceId);
  const deadline = strictestDeadline(h.deadline);
  if (deadline !== undefined) out.push('l5d-ctx-deadline', deadline);
  if (dst.dtabs.ctxHeader !== undefined) out.push('l5d-ctx-dtab', dst.dtabs.ctxHeader);
  const via = viaEntry(pr.httpVersion);
  out.push('via', h.via === undefined ? via : `${h.via}, ${via}`);
  if (h.upgrade !== undefined) out.push('connection', 'upgrade', 'upgrade', h.upgrade);
  else if (h.chunked) out.push('transfer-encoding', 'chunked');
  return out;
}

export function connectionFailed(e: Error, routed: Routed<Http1Endpoint>): ProxyError {
  const s = routed.client.state;
  const addresses = s.kind === 'bound' ? s.addresses : [routed.endpoint.key];
  return new ConnectionFailedError(routed.endpoint.key, routed.dst.path, routed.bound.id, addresses, { cause: e });
}

/** Failures of an exchange after the request was (perhaps) written: the message as it is. */
class UpstreamError extends ProxyError {
  readonly code = 'L5D_UPSTREAM';
  readonly status = 502;
}

/** Starts the upstream request; for an upgrade the caller listens for `upgrade` itself. */
export function openUpstream(pr: Http1Request, routed: Routed<Http1Endpoint>): ClientRequest {
  const ep = routed.endpoint;
  return request({
    // An upgraded connection leaves the pool: it gets one of its own.
    agent: pr.headers.upgrade === undefined ? ep.agent : false,
    host: ep.address.host,
    port: ep.address.port,
    method: pr.method,
    path: pr.uri,
    headers: upstreamHeaders(pr, routed),
    setHost: false,
  });
}

/** The endpoint service: resolves with the upstream response head. */
export function forward(pr: Http1Request, routed: Routed<Http1Endpoint>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const ep = routed.endpoint;
    ep.load++;
    let settled = false;
    let written = false;
    const up = openUpstream(pr, routed);
    const done = (): void => {
      ep.load--;
    };
    up.once('close', done);
    up.on('response', (res) => {
      settled = true;
      resolve(res);
    });
    up.on('error', (e) => {
      if (settled) return;
      settled = true;
      // Nothing of the request reached the upstream when the connection never opened.
      const code = (e as NodeJS.ErrnoException).code;
      const beforeWrite = !written || code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT';
      reject(beforeWrite ? connectionFailed(e, routed) : new UpstreamError(`${e.message} (${ep.key})`, { cause: e }));
    });
    up.once('socket', (socket) => {
      if (socket.connecting) socket.once('connect', () => (written = true));
      else written = true;
    });
    if (pr.expectContinue) up.on('continue', () => pr.res?.writeContinue());
    pr.abort = () => up.destroy();
    if (pr.hasBody) {
      const body = pr.req;
      body.pipe(up);
      body.on('aborted', () => up.destroy());
    } else {
      up.end();
    }
  });
}

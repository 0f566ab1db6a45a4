// The endpoint service of HTTP/1.1 and the headers it sends: the request goes to a pooled
// connection of the chosen endpoint with the router's headers (spec/linkerd.md §6) added.

import type { Routed } from '../router/index.ts';
import { nextTrace, readTrace, writeTrace } from '../trace.ts';
import { viaEntry } from './headers.ts';
import type { Http1Request } from './request.ts';
import type { Http1Endpoint } from './endpoint.ts';

/** The endpoint tier of HTTP/1.1 routers: the request's own server writes it upstream. */
export function forward(pr: Http1Request, routed: Routed<Http1Endpoint>): Promise<void> {
  return pr.conn.server.forward(pr, routed);
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
  if (pr.deadline !== undefined) out.push('l5d-ctx-deadline', pr.deadline);
  if (dst.dtabs.ctxHeader !== undefined) out.push('l5d-ctx-dtab', dst.dtabs.ctxHeader);
  const via = viaEntry(pr.httpVersion);
  out.push('via', h.via === undefined ? via : `${h.via}, ${via}`);
  if (h.upgrade !== undefined) out.push('connection', 'upgrade', 'upgrade', h.upgrade);
  else if (h.chunked) out.push('transfer-encoding', 'chunked');
  return out;
}

// What is written down about an exchange once it is answered: the access log line (linkerd's
// `httpAccessLog`) and, when sampled, an entry of the recent-requests ring.

import type { Http1Request } from './request.ts';
import type { Http1ServerOptions } from './server.ts';

export function recordExchange(o: Http1ServerOptions, pr: Http1Request): void {
  const log = o.accessLog;
  const s = pr.conn.socket;
  if (log !== undefined) {
    log.write({
      host: pr.header('host'),
      remote: s.remoteAddress ?? '-',
      timeMs: Date.now(),
      method: pr.method,
      uri: pr.uri,
      httpVersion: pr.httpVersion,
      status: pr.status,
      length: pr.responseLength,
      referer: pr.header('referer'),
      userAgent: pr.header('user-agent'),
    });
  }
  const recent = o.recent;
  if (recent !== undefined && recent.sampled()) {
    const e = pr.routed?.endpoint.address;
    recent.add({
      timestamp: Date.now(),
      router: o.label,
      source: `${s.remoteAddress ?? '-'}:${s.remotePort ?? 0}`,
      method: pr.method,
      host: pr.header('host'),
      uri: pr.uri,
      name: pr.dst?.path.show,
      dtab: pr.dst?.dtabs.ctxHeader,
      client: pr.client?.bound.id.show,
      endpoint: e === undefined ? undefined : `${e.host}:${e.port}`,
      status: pr.status,
      latencyMs: Date.now() - pr.startMs,
    });
  }
}

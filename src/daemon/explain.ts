// `/explain.json`: where a described request would go, and why. The request's method, URL and
// headers go through the same steps a live request takes: the server's header reading (with
// its `clearContext`), the router's identifier, its dtab cache for `l5d-ctx-dtab` and
// `l5d-dtab`, its binding cache and its clients. Only the sending is left out.

import type { Answer } from '../admin/index.ts';
import type { Dtab } from '../dtab/index.ts';
import { settleDelegation } from '../namer/index.ts';
import {
  describeRequest,
  type Dst,
  explainRoute,
  IdentificationError,
  type IdentifyRequest,
  rawHeader,
  readRequestHeaders,
  rescue,
  setRawHeader,
  splitAbsoluteUri,
} from '../proxy/index.ts';
import { type Running, serversOf } from './inspect.ts';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function malformed(why: string): Answer {
  return { status: 400, body: `Malformed explain request: ${why}` };
}

/** The headers of the query: `[[name, value], ...]` or `{name: value}`. */
function headerPairs(raw: unknown): [string, string][] | string {
  if (raw === undefined || raw === null) return [];
  const pairs: [unknown, unknown][] = Array.isArray(raw) ? (raw as unknown[]).map((p) => (Array.isArray(p) && p.length === 2 ? [p[0], p[1]] : [undefined, undefined])) : typeof raw === 'object' ? Object.entries(raw as object) : [];
  if (!Array.isArray(raw) && typeof raw !== 'object') return 'headers: expected [[name, value], ...] or {name: value}';
  const out: [string, string][] = [];
  for (const [k, v] of pairs) {
    if (typeof k !== 'string' || typeof v !== 'string') return 'headers: each header is a [name, value] pair of strings';
    if (!TOKEN.test(k)) return `headers: ${JSON.stringify(k)} is not a header name`;
    if (/[\r\n\0]/.test(v)) return `headers: the value of ${k} holds a line break`;
    out.push([k, v]);
  }
  return out;
}

function outcome(error: unknown): { routed: false; status: number; message: string; l5dErr: string | undefined } {
  const r = rescue(error);
  return { routed: false, status: r.status, message: r.body.trimEnd(), l5dErr: r.headers['l5d-err'] };
}

export async function explain(run: Running, query: unknown): Promise<Answer> {
  const q = query as Record<string, unknown>;
  const label = q['router'] ?? (run.routers.size === 1 ? [...run.routers.keys()][0] : undefined);
  if (typeof label !== 'string') return malformed(`router (a string) is required; routers: ${[...run.routers.keys()].join(', ')}`);
  const r = run.routers.get(label);
  if (r === undefined) return { status: 400, body: `Unknown router: ${label}; routers: ${[...run.routers.keys()].join(', ')}` };
  const method = q['method'] ?? 'GET';
  if (typeof method !== 'string' || !TOKEN.test(method)) return malformed('method: expected an HTTP method such as GET');
  const url = q['url'];
  if (typeof url !== 'string' || url === '' || /[\s\0]/.test(url)) return malformed('url: expected a URL (http://host/path) or a path (/path)');
  const absolute = splitAbsoluteUri(url);
  if (absolute === undefined && !url.startsWith('/')) return malformed(`url: ${JSON.stringify(url)} is neither a URL (http://host/path) nor a path (/path)`);
  const pairs = headerPairs(q['headers']);
  if (typeof pairs === 'string') return malformed(pairs);
  const httpVersion = q['httpVersion'] ?? '1.1';
  if (httpVersion !== '1.1' && httpVersion !== '1.0') return malformed('httpVersion: 1.1 or 1.0');
  // Which server the request arrives at (its clearContext applies): `<ip>/<port>` as its
  // metrics name it, or the router's first.
  const serverId = q['server'];
  const servers = serversOf(run, label).map((s) => ({ id: s.id, clearContext: s.options.clearContext }));
  const server = serverId === undefined || serverId === null ? servers[0] : servers.find((s) => s.id === serverId);
  if (server === undefined) return malformed(`server: ${JSON.stringify(serverId)} is not a server of ${label}; servers: ${servers.map((s) => s.id).join(', ')}`);

  // The request as the server's connection reads it: l5d-* and hop-by-hop headers taken out,
  // and an absolute URI's authority made the Host.
  const uri = absolute?.path ?? url;
  const headers = readRequestHeaders(pairs.flat(), server.clearContext);
  if (absolute !== undefined) setRawHeader(headers.forward, 'host', 'Host', absolute.authority);
  const request: IdentifyRequest = { method, uri, httpVersion, header: (name) => rawHeader(headers.forward, name) };
  const clearContext = server.clearContext;
  const host = request.header('host');
  const body: Record<string, unknown> = {
    router: label,
    request: { method, uri, host: host ?? null, httpVersion },
    server: server.id,
    clearContext,
    identification: null,
    dtab: { base: r.config.dtab.show, ctx: (headers.ctxDtab ?? []).join(';'), local: (headers.userDtab ?? []).join(';'), effective: r.config.dtab.show },
    delegation: null,
    bound: [],
    outcome: null,
  };
  const id = r.config.identifier(request);
  if (id.kind === 'unidentified') {
    body['identification'] = { kind: 'unidentified', reason: id.reason };
    body['outcome'] = outcome(new IdentificationError(describeRequest(method, uri, '127.0.0.1', 0), id.reason));
    return { status: 200, body };
  }
  body['identification'] = { kind: 'identified', path: id.path.show, ...(id.uri === undefined ? {} : { uri: id.uri }) };
  let dst: Dst;
  try {
    dst = { path: id.path, dtabs: r.dtabs.get(headers.ctxDtab, headers.userDtab) };
  } catch (e) {
    body['outcome'] = outcome(e);
    return { status: 200, body };
  }
  const full: Dtab = dst.dtabs.full;
  (body['dtab'] as Record<string, unknown>)['effective'] = full.show;
  // The delegation as the delegator shows it, and the route as the router takes it.
  const [delegation, route] = await Promise.all([settleDelegation(r.config.interpreter.delegate(full, dst.path), 2000), explainRoute(r.router, dst)]);
  body['delegation'] = delegation.kind === 'ok' ? delegation.value : delegation.kind === 'failed' ? { type: 'exception', path: dst.path.show, message: delegation.error.message } : null;
  body['bound'] = route.choices.map((c) => {
    const s = c.client.state;
    return {
      id: c.bound.id.show,
      residual: c.bound.residual.show,
      weight: c.share,
      // What a request sent down this branch gets when it cannot be routed.
      outcome: c.error === undefined ? { routed: true } : outcome(c.error),
      state: s.kind === 'failed' ? `failed: ${s.error.message}` : s.kind,
      addresses: s.kind === 'bound' ? [...s.addresses] : [],
      endpoints:
        s.kind === 'bound'
          ? s.endpoints.map((e) => ({ address: `${e.address.host}:${e.address.port}`, state: c.client.healthOf(e)?.accrual?.state ?? 'alive', load: e.load }))
          : [],
    };
  });
  const routable = route.choices.filter((c) => c.error === undefined);
  const failing = route.choices.filter((c) => c.error !== undefined).reduce((a, c) => a + c.share, 0);
  body['outcome'] =
    route.error !== undefined
      ? outcome(route.error)
      : {
          routed: true,
          message:
            `sent to ${routable.map((c) => `${c.bound.id.show} (${Math.round(c.share * 100)}%)`).join(', ')}` +
            (failing > 0 ? `; ${Math.round(failing * 100)}% of requests go down a branch that fails (see bound)` : ''),
        };
  return { status: 200, body };
}

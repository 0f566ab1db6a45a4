// What the admin server asks of the running routers: delegations (once, or followed live),
// "explain a request", the routers and their names, client and namer states. Each answer is
// computed by the code that routes live traffic: the router's identifier, its dtab cache, its
// interpreter, binding cache and clients.

import type { Answer, RouterInfo } from '../admin/index.ts';
import type { LinkerdConfig } from '../config/index.ts';
import { type Closable, NOOP_CLOSABLE } from '../core/index.ts';
import { type Dtab, DtabParseError, type Path, readDtab, readPath } from '../dtab/index.ts';
import { interpreterFromConfig, type Interpreter, settleDelegation, watchDelegation } from '../namer/index.ts';
import type { Http1Server } from '../proxy/index.ts';
import type { RunningRouter } from './routers.ts';

/** The running routers and the config they came from. */
export interface Running {
  readonly config: LinkerdConfig;
  readonly routers: ReadonlyMap<string, RunningRouter>;
  /** The servers listening, by `ip:port` (the bound port when configured as 0). */
  readonly servers: ReadonlyMap<string, Http1Server>;
}

/** The servers of router `label`. */
export function serversOf(run: Running, label: string): Http1Server[] {
  const out: Http1Server[] = [];
  for (const s of run.servers.values()) if (s.options.label === label) out.push(s);
  return out;
}

type Parsed = { dtab: Dtab; path: Path; interpreter: Interpreter } | Answer;

/** Parses a delegation request; an Answer when it cannot be delegated. */
function parse(run: Running, namespace: string | undefined, dtabText: string, pathText: string): Parsed {
  let dtab: Dtab;
  let path: Path;
  try {
    dtab = readDtab(dtabText);
  } catch (e) {
    if (e instanceof DtabParseError) return { status: 400, body: `Invalid dtab: ${e.message}` };
    throw e;
  }
  try {
    path = readPath(pathText);
  } catch (e) {
    if (e instanceof DtabParseError) return { status: 400, body: `Invalid path: ${e.message}` };
    throw e;
  }
  if (namespace === undefined || namespace === '') {
    // Without a router, only the given dtab and the `/$/` namers (linkerd's delegator).
    const n = run.config.naming;
    return { dtab, path, interpreter: interpreterFromConfig(undefined, 'delegator', [], n.registry, n.env) };
  }
  const r = run.routers.get(namespace);
  if (r === undefined) return { status: 400, body: `Unknown namespace: ${namespace}; routers: ${[...run.routers.keys()].join(', ')}` };
  return { dtab, path, interpreter: r.config.interpreter };
}

/**
 * linkerd's `/delegator.json`: the delegation of `path` under `dtab` through router
 * `namespace`'s interpreter, with the live addresses at its leaves once known (2 s at most).
 */
export async function delegate(run: Running, namespace: string | undefined, dtabText: string, pathText: string): Promise<Answer> {
  const p = parse(run, namespace, dtabText, pathText);
  if ('status' in p) return p;
  const state = await settleDelegation(p.interpreter.delegate(p.dtab, p.path), 2000);
  if (state.kind === 'pending') return { status: 503, body: 'Request timed out.' };
  if (state.kind === 'failed') return { status: 501, body: state.error.message };
  return { status: 200, body: state.value };
}

/** The same delegation followed live: `onChange` hears each new answer until closed. */
export function followDelegation(run: Running, namespace: string | undefined, dtabText: string, pathText: string, onChange: (a: Answer) => void): Closable {
  const p = parse(run, namespace, dtabText, pathText);
  if ('status' in p) {
    onChange(p);
    return NOOP_CLOSABLE;
  }
  return watchDelegation(p.interpreter.delegate(p.dtab, p.path), (state) => {
    if (state.kind === 'ok') onChange({ status: 200, body: state.value });
    else if (state.kind === 'failed') onChange({ status: 501, body: state.error.message });
  });
}

/** The routers as the UI pages see them. */
export function routerInfos(run: Running): RouterInfo[] {
  const out: RouterInfo[] = [];
  for (const r of run.routers.values()) {
    const c = r.config;
    const names = r.router.serviceNames();
    out.push({
      label: c.label,
      protocol: c.protocol,
      dtab: c.dtab.show,
      servers: serversOf(run, c.label).map((s) => s.id),
      dstPrefix: c.dstPrefix.show,
      names: names.length > 200 ? names.slice(0, 200) : names,
      retryBudgetPercent: Math.round(c.service.resolve(c.dstPrefix).retries.budget.percentCanRetry * 100),
    });
  }
  return out;
}

/** linkerd's `/bound-names.json`: every name the configured namers can list. */
export async function boundNames(run: Running): Promise<string[]> {
  const lists = await Promise.all(run.config.naming.namers.map((n) => n.namer.enumerate?.(1000) ?? Promise.resolve([])));
  return lists.flat();
}

/** linkerd's `/client_state.json`: every client of every router, its state and addresses. */
export function clientState(run: Running): Record<string, { state: string; addresses: string[] }> {
  const out: Record<string, { state: string; addresses: string[] }> = {};
  for (const r of run.routers.values()) {
    for (const c of r.router.clients()) {
      const s = c.state;
      const state = s.kind === 'bound' ? 'bound' : s.kind === 'failed' ? `Failed: ${s.error.message}` : s.kind === 'neg' ? 'Neg' : 'Pending';
      out[c.bound.id.show] = { state, addresses: s.kind === 'bound' ? [...s.addresses] : [] };
    }
  }
  return out;
}

/** The configured namers' prefixes without the leading slash (`#/io.l5d.fs`). */
export function namerPrefixes(run: Running): string[] {
  return run.config.naming.namers.map((n) => n.prefix.show.slice(1));
}

/** `/namer_state/<prefix>.json`: the namer at `prefix` (`#/io.l5d.fs` or `io.l5d.fs`), if it keeps state. */
export function namerState(run: Running, prefix: string): unknown {
  const want = prefix.startsWith('/') ? prefix : `/${prefix}`;
  for (const n of run.config.naming.namers) {
    const p = n.prefix.show;
    if (p === want || p === `/#${want}`) return n.namer.state?.();
  }
  return undefined;
}

/** `namer/<prefix>/...` counts, for the metrics tree. */
export function namerStats(run: Running): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const n of run.config.naming.namers) {
    const s = n.namer.stats?.();
    if (s !== undefined) out.set(n.prefix.show.slice(1), s);
  }
  return out;
}

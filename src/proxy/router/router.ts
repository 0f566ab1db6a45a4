// The router core, protocol-independent (STYLE §3.2, §3.6): a destination (name and dtabs)
// is bound through the binding cache (path tier), one branch of the bound tree is picked per
// request, the bound name's client (client tier) picks an endpoint, and the protocol's
// endpoint service (endpoint tier) carries the request. Every tier is cached and kept warm
// while used, so a steady request finds everything in memory and resolves synchronously;
// only a name still binding waits, up to `bindingTimeoutMs`.

import { LRUCache } from 'lru-cache';
import type { ActivityState, Closable, Log } from '../../core/index.ts';
import type { Address, BoundName, NameTree, Path } from '../../dtab/index.ts';
import { BindingCache, type BindingCacheOptions, type Interpreter } from '../../namer/index.ts';
import { BindingTimeoutError, FailureFlags, NamerError, NoBrokersAvailableError, ProxyError } from '../errors.ts';
import { type ClientParams, ClientNode, type Endpoint, type EndpointMeters, ownMeters, type PoolParams, scopeOf } from './client.ts';
import type { Dst } from './dst.ts';
import { EndpointPool } from './endpoints.ts';
import { pickBound } from './pick.ts';
import { DEFAULT_CLIENT_PARAMS, DEFAULT_SERVICE_PARAMS, ServiceNode, type ServiceParams } from './stats.ts';
import type { MetricsRegistry } from '../../metrics/index.ts';
import { type Attempts, RetryRequest } from './retries.ts';

/** Where one request was sent: what logs, headers and error texts say about it. */
export interface Routed<E extends Endpoint> {
  readonly dst: Dst;
  readonly bound: BoundName;
  readonly client: ClientNode<E>;
  readonly endpoint: E;
  /** The request's retries so far, and the way to ask for another. */
  readonly attempts: Attempts;
}

/** The endpoint tier: carries a request to the chosen endpoint. */
export type EndpointService<E extends Endpoint, Req, Res> = (req: Req, routed: Routed<E>) => Promise<Res>;

export interface RouterOptions<E extends Endpoint, Req, Res> {
  readonly label: string;
  readonly interpreter: Interpreter;
  readonly bindingTimeoutMs: number;
  /** Makes the endpoint of one address (its connection pool), which keeps `meters` up to date. */
  readonly newEndpoint: (address: Address, pool: PoolParams, meters: EndpointMeters) => E;
  readonly call: EndpointService<E, Req, Res>;
  readonly bindingCache?: BindingCacheOptions;
  /** Most clients kept (linkerd's `bindingCache.clients`, 1000). */
  readonly maxClients?: number;
  /** A client unused this long is dropped (linkerd's `idleTtlSecs`, 600 s). */
  readonly clientIdleMs?: number;
  /** linkerd's `client` parameters for a client id (its `io.l5d.static` prefixes resolved). */
  readonly clientParams?: (id: Path) => ClientParams;
  /** linkerd's `service` parameters for a logical name. */
  readonly serviceParams?: (name: Path) => ServiceParams;
  /** Where the router's metrics go (none when undefined). */
  readonly metrics?: MetricsRegistry;
  readonly log: Log;
}

/** Requeues of one request, at most, whatever the budget (Finagle's `maxRequeues`). */
const MAX_REQUEUES = 25;

/** A failure known to have left nothing written upstream: safe to send elsewhere. */
function requeueable(e: unknown): boolean {
  return e instanceof ProxyError && (e.flags & FailureFlags.Retryable) !== 0;
}

export class Router<E extends Endpoint, Req, Res> implements Closable {
  readonly label: string;
  readonly bindings: BindingCache;
  readonly endpoints: EndpointPool<E>;
  readonly #clients: LRUCache<string, ClientNode<E>>;
  readonly #bindingTimeoutMs: number;
  readonly #call: EndpointService<E, Req, Res>;
  readonly #clientParams: (id: Path) => ClientParams;
  readonly #serviceParams: (name: Path) => ServiceParams;
  /** Requests sent again after a connection failure (linkerd's `retries/requeues`). */
  requeues = 0;
  /** Requests sent again after a retryable failure (linkerd's `retries/total`). */
  retries = 0;
  /** One retry budget per service (logical name), as linkerd keeps them. */
  readonly #services: LRUCache<string, ServiceNode>;
  readonly #metrics: MetricsRegistry | undefined;
  #closing = false;
  #clientMisses = 0;
  #clientEvicts = 0;

  constructor(options: RouterOptions<E, Req, Res>) {
    this.label = options.label;
    this.bindings = new BindingCache(options.interpreter, options.bindingCache);
    const metrics = options.metrics;
    // An endpoint's meters are parts of its clients' gauges, in the registry's memory from its
    // making until it is retired (then they go on, in memory of their own, for the requests
    // still on it). Freeing a cell twice, or one of an endpoint's own, does nothing.
    const free = (m: EndpointMeters): void => {
      metrics?.freeCell(m.load);
      metrics?.freeCell(m.size);
      metrics?.freeCell(m.waiting);
    };
    this.endpoints = new EndpointPool(
      (address, pool) => {
        if (metrics === undefined) return options.newEndpoint(address, pool, ownMeters());
        const meters = { load: metrics.cell(), size: metrics.cell(), waiting: metrics.cell() };
        let e: E;
        try {
          e = options.newEndpoint(address, pool, meters);
        } catch (error) {
          free(meters);
          throw error;
        }
        // The clients' gauges add up these cells: an endpoint must keep what it was given.
        if (e.meters !== meters) {
          free(meters);
          throw new Error(`the endpoint of ${e.key} does not keep the meters it was made with`);
        }
        return e;
      },
      (e) => free(e.meters),
    );
    this.#bindingTimeoutMs = options.bindingTimeoutMs;
    this.#call = options.call;
    this.#clientParams = options.clientParams ?? (() => DEFAULT_CLIENT_PARAMS);
    this.#serviceParams = options.serviceParams ?? (() => DEFAULT_SERVICE_PARAMS);
    this.#metrics = options.metrics;
    this.#services = new LRUCache({
      max: options.maxClients ?? 1000,
      ttl: options.clientIdleMs ?? 600_000,
      updateAgeOnGet: true,
      dispose: (s, _key, reason) => {
        if (reason === 'set' || this.#closing) return;
        this.#metrics?.removeScope(s.scope);
        // Only the clients that made metrics for the service have any to drop: visiting every
        // client would cost up to a thousand calls here, on the request path.
        for (const c of s.clients) c.forgetService(s);
        s.clients.clear();
      },
    });
    this.#clients = new LRUCache({
      max: options.maxClients ?? 1000,
      ttl: options.clientIdleMs ?? 600_000,
      updateAgeOnGet: true,
      ttlAutopurge: false,
      dispose: (c, _key, reason) => {
        if (reason === 'evict' || reason === 'expire') this.#clientEvicts++;
        c.close();
        // Replaced by a client of the same id, or the router closing (a successor, or the
        // router's owner, has the scope now): the metrics stay.
        if (c.scope !== undefined && reason !== 'set' && !this.#closing) this.#metrics?.removeScope(c.scope);
      },
    });
  }

  /**
   * Exports linkerd's binding cache tiers, `path` (bindings by dtab and name) and `client`, as
   * this router's: called once it serves, so a router built and dropped (a reload that failed)
   * does not take them over from the one running.
   */
  exportCacheMetrics(): void {
    const m = this.#metrics;
    if (m !== undefined) {
      const scope = `rt/${this.label}/bindcache`;
      m.gauge(`${scope}/path/misses`, () => this.bindings.misses);
      m.gauge(`${scope}/path/evicts`, () => this.bindings.evicts);
      m.gauge(`${scope}/path/size`, () => this.bindings.size);
      m.gauge(`${scope}/client/misses`, () => this.#clientMisses);
      m.gauge(`${scope}/client/evicts`, () => this.#clientEvicts);
      m.gauge(`${scope}/client/size`, () => this.#clients.size);
    }
  }

  /**
   * Routes one request. Rejects with a ProxyError when it cannot be routed. `service` is the
   * destination's service node ({@link serviceOf}), and `attempts` the request's, made for it.
   */
  dispatch(dst: Dst, req: Req, service: ServiceNode, attempts: Attempts): Promise<Res> {
    service.budget.deposit();
    return this.#route(dst, req, attempts);
  }

  /** The service node of a logical name: its parameters, retry budget and metrics. */
  serviceOf(dst: Dst): ServiceNode {
    const key = dst.path.show;
    let s = this.#services.get(key);
    if (s === undefined) {
      const id = scopeOf(key);
      s = new ServiceNode(this.#serviceParams(dst.path), this.#metrics, `rt/${this.label}/service/${id}`, id);
      this.#services.set(key, s);
    }
    return s;
  }

  /**
   * One request is over, however it ended: the service's and the client's metrics learn of it
   * (`client` is the last one the request went to, if any).
   */
  record(attempts: Attempts, client: ClientNode<E> | undefined, success: boolean): void {
    const ms = performance.now() - attempts.startMs;
    const s = attempts.service;
    s.stats?.record(success, ms);
    s.retriesPerRequest?.add(attempts.retries);
    client?.stats?.record(success, ms);
    client?.serviceStats(s)?.record(success, ms);
  }

  #route(dst: Dst, req: Req, attempts: Attempts): Promise<Res> {
    let routed: Routed<E> | undefined;
    try {
      routed = this.#resolveNow(dst, attempts);
    } catch (e) {
      return Promise.reject(e);
    }
    if (routed !== undefined) return this.#attempt(req, routed, 0);
    return this.#resolveLater(dst, attempts).then((r) => this.#attempt(req, r, 0));
  }

  /**
   * Sends the request to the chosen endpoint. A connection failure (nothing was written) is
   * sent again to another pick of the same client while its requeue budget allows; a retry the
   * protocol asked for waits its backoff and is routed afresh.
   */
  #attempt(req: Req, routed: Routed<E>, requeued: number): Promise<Res> {
    const client = routed.client;
    if (requeued === 0) client.requeues.deposit();
    return this.#call(req, routed).then(undefined, (e: unknown) => {
      if (e instanceof RetryRequest) {
        this.retries++;
        const delay = routed.attempts.nextDelay();
        if (delay <= 0) return this.#route(routed.dst, req, routed.attempts);
        return new Promise<void>((r) => setTimeout(r, delay)).then(() => this.#route(routed.dst, req, routed.attempts));
      }
      if (!requeueable(e) || requeued >= MAX_REQUEUES || !client.requeues.tryWithdraw()) throw e;
      let next: Routed<E> | undefined;
      try {
        next = this.#endpointOf(routed.dst, routed.bound, client, routed.attempts);
      } catch {
        throw e;
      }
      if (next === undefined) throw e;
      this.requeues++;
      client.requeueCounter?.incr();
      return this.#attempt(req, next, requeued + 1);
    });
  }

  /** The routing decision from what is in memory; undefined while something is pending. */
  #resolveNow(dst: Dst, attempts: Attempts): Routed<E> | undefined {
    const state = this.bindings.get(dst.dtabs.full, dst.path).sample();
    const bound = this.#boundOf(dst, state);
    if (bound === undefined) return undefined;
    const client = this.clientFor(bound);
    return this.#endpointOf(dst, bound, client, attempts);
  }

  #boundOf(dst: Dst, state: ActivityState<NameTree<BoundName>>): BoundName | undefined {
    switch (state.kind) {
      case 'pending':
        return undefined;
      case 'failed':
        throw new NamerError(state.error.message || state.error.name, { cause: state.error });
      case 'ok': {
        const bound = pickBound(state.value);
        if (bound === undefined) throw new NoBrokersAvailableError(dst.path, dst.dtabs.base, dst.dtabs.local);
        return bound;
      }
    }
  }

  /** The client of a bound name, made when there is none (as routing a request to it would). */
  clientFor(bound: BoundName): ClientNode<E> {
    const key = bound.id.show;
    let client = this.#clients.get(key);
    // Keyed by id alone: a weighted union's branch carries its weight in another Addr object
    // over the same addresses, and must not replace the client (its balancer and accrual state).
    if (client === undefined) {
      this.#clientMisses++;
      client = new ClientNode(bound, this.endpoints, this.#clientParams(bound.id), this.#metrics, `rt/${this.label}/client/${scopeOf(key)}`);
      this.#clients.set(key, client);
    }
    return client;
  }

  #endpointOf(dst: Dst, bound: BoundName, client: ClientNode<E>, attempts: Attempts): Routed<E> | undefined {
    const s = client.state;
    switch (s.kind) {
      case 'pending':
        return undefined;
      case 'neg':
        throw new NoBrokersAvailableError(dst.path, dst.dtabs.base, dst.dtabs.local);
      case 'failed':
        throw new NamerError(s.error.message || s.error.name, { cause: s.error });
      case 'bound': {
        const endpoint = client.pick(s.endpoints);
        if (endpoint === undefined) throw new NoBrokersAvailableError(dst.path, dst.dtabs.base, dst.dtabs.local);
        return { dst, bound, client, endpoint, attempts };
      }
    }
  }

  /** Waits for the binding and then the addresses, both within one `bindingTimeoutMs`. */
  #resolveLater(dst: Dst, attempts: Attempts): Promise<Routed<E>> {
    return new Promise<Routed<E>>((resolve, reject) => {
      const activity = this.bindings.get(dst.dtabs.full, dst.path);
      let bindingSub: Closable | undefined;
      let clientSub: Closable | undefined;
      let done = false;
      const finish = (): void => {
        done = true;
        clearTimeout(timer);
        clientSub?.close();
        // Closed on the next turn: an observer should not close itself while being called.
        const b = bindingSub;
        if (b !== undefined) queueMicrotask(() => b.close());
      };
      const timer = setTimeout(() => {
        if (done) return;
        finish();
        reject(new BindingTimeoutError(dst.path, this.#bindingTimeoutMs));
      }, this.#bindingTimeoutMs);
      const attempt = (): void => {
        if (done) return;
        clientSub?.close();
        clientSub = undefined;
        let r: Routed<E> | undefined;
        try {
          const bound = this.#boundOf(dst, activity.sample());
          if (bound === undefined) return;
          const client = this.clientFor(bound);
          r = this.#endpointOf(dst, bound, client, attempts);
          // Bound, but the addresses are not known yet: wait for them too.
          if (r === undefined) clientSub = client.whenSettled(attempt);
        } catch (e) {
          finish();
          reject(e);
          return;
        }
        if (r === undefined) return;
        finish();
        resolve(r);
      };
      bindingSub = activity.observe(attempt);
      if (done) bindingSub.close();
    });
  }

  /** How long a request waits for its name to bind and its addresses to arrive. */
  get bindingTimeoutMs(): number {
    return this.#bindingTimeoutMs;
  }

  /** The logical names with a service node: those recently routed (for suggestions). */
  serviceNames(): string[] {
    return [...this.#services.keys()];
  }

  /** The metrics scopes of the router's clients and services. */
  scopes(): string[] {
    const out: string[] = [];
    for (const c of this.#clients.values()) if (c.scope !== undefined) out.push(c.scope);
    for (const s of this.#services.values()) out.push(s.scope);
    return out;
  }

  /** Bound names with clients (for state pages and tests). */
  clients(): ClientNode<E>[] {
    return [...this.#clients.values()];
  }

  /** Drops clients idle past their TTL. */
  purgeIdle(): void {
    this.#clients.purgeStale();
    this.bindings.purgeIdle();
  }

  close(): void {
    this.#closing = true;
    this.#clients.clear();
    this.bindings.close();
    this.endpoints.close();
  }
}

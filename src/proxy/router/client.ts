// The client tier: one per bound name (keyed by its id, `/#/io.l5d.fs/web`), holding the live
// endpoint set of that name, the health of each endpoint as this client sees it (failure
// accrual, latency), and choosing an endpoint per request. Endpoints themselves (their
// connection pools) are shared between clients by address (see endpoints.ts).

import { type Closable, equalJitteredBackoff, RetryBudget, type RetryBudgetConfig } from '../../core/index.ts';
import { type Addr, type Address, addressKey, type BoundName, ENDPOINT_WEIGHT_META_KEY } from '../../dtab/index.ts';
import { type Counter, Gauge, type MetricsRegistry, RequestStats, type SumGauge } from '../../metrics/index.ts';
import { Balancer, type BalancerPolicy, type EndpointHealth, PeakEwma } from './balancer.ts';
import type { EndpointPool } from './endpoints.ts';
import { type AccrualCounters, FailureAccrual, type FailureAccrualPolicy } from './failure-accrual.ts';
import type { ServiceMetricsHolder, ServiceNode } from './stats.ts';

/** What the router needs of an endpoint; the protocol's connection pool behind it is its own. */
export interface Endpoint {
  readonly address: Address;
  /** `host:port`, brackets around IPv6. */
  readonly key: string;
  /** Requests in flight: the balancer prefers the less loaded. */
  readonly load: number;
  /** Connections open or opening (`pool_size`). */
  readonly size: number;
  /** Requests waiting for a connection (`pool_waiters`). */
  readonly waiting: number;
  /** The same three numbers as they change, for the gauges of the clients that use it. */
  readonly meters: EndpointMeters;
  /** Releases connections; called once no client uses the endpoint. */
  close(): void;
}

/**
 * An endpoint's load, connections and waiters, each set where it changes (a waiting request
 * that gives up leaves the count then): a client's `loadbalancer/load`, `pool_size` and
 * `pool_waiters` are their sums over its endpoints (shared with other clients), added up by
 * the export, so that a threaded scrape calls nothing per client on the event loop.
 */
export interface EndpointMeters {
  readonly load: Gauge;
  readonly size: Gauge;
  readonly waiting: Gauge;
}

/** Meters in memory of their own, for an endpoint no registry counts. */
export function ownMeters(): EndpointMeters {
  return { load: new Gauge(), size: new Gauge(), waiting: new Gauge() };
}

/**
 * A client's gauges: set as what they show changes, or sums of its endpoints' meters. A
 * threaded scrape calls nothing on the event loop for them (the thread adds the sums up).
 */
interface ClientGauges {
  readonly size: Gauge;
  readonly available: Gauge;
  readonly load: SumGauge;
  readonly poolSize: SumGauge;
  readonly poolWaiters: SumGauge;
  readonly removals: Gauge;
  readonly revivals: Gauge;
  readonly probes: Gauge;
}

/** linkerd's `hostConnectionPool`: connections per endpoint. */
export interface PoolParams {
  /** Idle connections kept open whatever their age (0). */
  readonly minSize: number;
  /** Connections per endpoint at most; more requests wait (unbounded). */
  readonly maxSize: number;
  /** An idle connection is closed after this (4 s here; unbounded in linkerd). */
  readonly idleTimeMs: number;
  /** Requests waiting for a connection at most; more are refused (unbounded). */
  readonly maxWaiters: number;
}

export const DEFAULT_POOL: PoolParams = { minSize: 0, maxSize: Infinity, idleTimeMs: 4_000, maxWaiters: Infinity };

/** linkerd's client parameters, resolved for one client id. */
export interface ClientParams {
  readonly pool: PoolParams;
  readonly balancer: BalancerPolicy;
  readonly failureAccrual: FailureAccrualPolicy;
  readonly requeueBudget: RetryBudgetConfig;
  /** One attempt's time to its response head; undefined for none. */
  readonly attemptTimeoutMs: number | undefined;
  /** linkerd's `failFast`: an endpoint that cannot be connected to is out until one connects. */
  readonly failFast: boolean;
}

/** How long failFast keeps an endpoint out after a failed connection: 1 s, doubling to 32 s. */
const FAIL_FAST: FailureAccrualPolicy = { kind: 'io.l5d.consecutiveFailures', failures: 1, backoff: equalJitteredBackoff(1_000, 32_000) };

export type ClientState<E> =
  | { readonly kind: 'pending' }
  | { readonly kind: 'neg' }
  | { readonly kind: 'failed'; readonly error: Error }
  | {
      readonly kind: 'bound';
      readonly endpoints: readonly E[];
      readonly addresses: readonly string[];
      /** Each endpoint's weight from the namer, or undefined when all weigh 1. */
      readonly weights: readonly number[] | undefined;
    };

const PENDING = { kind: 'pending' } as const;

/**
 * A scope segment from a path: its text without the leading slash. Here rather than in
 * stats.ts, which reads this module's defaults as it loads: the other way round would be a cycle.
 */
export function scopeOf(pathShow: string): string {
  return pathShow.startsWith('/') ? pathShow.slice(1) : pathShow;
}

/** Logical names a client keeps metrics for (beyond them, only the client's own count). */
export const MAX_SERVICES_PER_CLIENT = 100;
const NEG = { kind: 'neg' } as const;

export class ClientNode<E extends Endpoint> implements Closable, ServiceMetricsHolder {
  readonly bound: BoundName;
  readonly params: ClientParams;
  /** Replaced, never mutated, on each change of the address set. */
  state: ClientState<E> = PENDING;
  /** Connection failures are sent again to another endpoint within this budget. */
  readonly requeues: RetryBudget;
  /** The client's metrics scope (`rt/<router>/client/<id>`), when metrics are kept. */
  readonly scope: string | undefined;
  readonly stats: RequestStats | undefined;
  readonly requeueCounter: Counter | undefined;
  /** What failure accrual did to this client's endpoints (`failure_accrual/...`). */
  readonly accrualCounters: AccrualCounters = { removals: 0, revivals: 0, probes: 0, changed: () => this.#accrualChanged() };
  readonly #gauges: ClientGauges | undefined;
  /** The endpoints the sum gauges add up now. */
  #summed: readonly E[] = [];
  readonly #failFastCounters: AccrualCounters = { removals: 0, revivals: 0, probes: 0 };
  readonly #pool: EndpointPool<E>;
  readonly #balancer: Balancer<E>;
  /** Each endpoint's health as seen from this client; kept while the endpoint stays in the set. */
  readonly #health = new Map<E, EndpointHealth>();
  #sub: Closable | undefined;
  #waiters: (() => void)[] = [];
  #closed = false;
  readonly #metrics: MetricsRegistry | undefined;
  /** linkerd's per-service scopes under the client (`.../client/<id>/service/<name>/...`). */
  readonly #byService = new Map<ServiceNode, RequestStats>();
  #lastService: ServiceNode | undefined;
  #lastServiceStats: RequestStats | undefined;

  constructor(bound: BoundName, pool: EndpointPool<E>, params: ClientParams, metrics?: MetricsRegistry, scope?: string) {
    this.bound = bound;
    this.params = params;
    this.#pool = pool;
    this.#balancer = new Balancer(params.balancer);
    this.requeues = new RetryBudget(params.requeueBudget);
    this.scope = metrics === undefined ? undefined : scope;
    this.#metrics = metrics;
    if (metrics !== undefined && scope !== undefined) {
      this.stats = new RequestStats(metrics, scope);
      // The client's id is its bound name as its scope names it, whatever the router's label.
      metrics.labelScope(scope, 'client', scopeOf(bound.id.show));
      this.requeueCounter = metrics.counter(`${scope}/retries/requeues`);
      this.#gauges = {
        size: metrics.setGauge(`${scope}/loadbalancer/size`),
        available: metrics.setGauge(`${scope}/loadbalancer/available`),
        load: metrics.sumGauge(`${scope}/loadbalancer/load`),
        poolSize: metrics.sumGauge(`${scope}/pool_size`),
        poolWaiters: metrics.sumGauge(`${scope}/pool_waiters`),
        removals: metrics.setGauge(`${scope}/failure_accrual/removals`),
        revivals: metrics.setGauge(`${scope}/failure_accrual/revivals`),
        probes: metrics.setGauge(`${scope}/failure_accrual/probes`),
      };
    } else {
      this.stats = undefined;
      this.requeueCounter = undefined;
      this.#gauges = undefined;
    }
    this.#sub = bound.addr.observe((addr) => this.#update(addr));
  }

  #healthFor(e: E): EndpointHealth {
    let h = this.#health.get(e);
    if (h === undefined) {
      const p = this.params;
      h = {
        accrual: p.failureAccrual.kind === 'none' ? undefined : new FailureAccrual(p.failureAccrual, this.accrualCounters),
        failFast: p.failFast ? new FailureAccrual(FAIL_FAST, this.#failFastCounters) : undefined,
        latency: p.balancer.kind === 'ewma' ? new PeakEwma(p.balancer.decayTimeMs) : undefined,
      };
      this.#health.set(e, h);
    }
    return h;
  }

  #update(addr: Addr): void {
    if (this.#closed) return;
    const before = this.state;
    switch (addr.kind) {
      case 'pending':
        // A name that had endpoints keeps them while its source looks again.
        if (before.kind !== 'bound') this.state = PENDING;
        break;
      case 'neg':
        this.state = NEG;
        break;
      case 'failed':
        if (before.kind !== 'bound') this.state = { kind: 'failed', error: addr.error };
        break;
      case 'bound': {
        const endpoints = addr.addrs.map((a) => this.#pool.acquire(a, this.params.pool));
        for (const e of endpoints) this.#healthFor(e);
        const weights = addr.addrs.some((a) => a.meta[ENDPOINT_WEIGHT_META_KEY] !== undefined)
          ? addr.addrs.map((a) => {
              const w = a.meta[ENDPOINT_WEIGHT_META_KEY];
              return typeof w === 'number' && w > 0 ? w : 1;
            })
          : undefined;
        this.state = { kind: 'bound', endpoints, addresses: addr.addrs.map(addressKey), weights };
        break;
      }
    }
    // The gauges follow the new set before any endpoint that left is let go.
    if (before !== this.state) this.#setGauges();
    if (before.kind === 'bound' && before !== this.state) {
      // An endpoint kept across the update keeps its health; one that left loses it.
      const now = this.state.kind === 'bound' ? new Set(this.state.endpoints) : undefined;
      for (const e of before.endpoints) {
        if (now === undefined || !now.has(e)) this.#health.delete(e);
        this.#pool.release(e);
      }
    }
    if (this.state.kind !== 'pending' && this.#waiters.length > 0) {
      const ws = this.#waiters;
      this.#waiters = [];
      for (const w of ws) w();
    }
  }

  /** The gauges of the endpoint set, for the set now. */
  #setGauges(): void {
    const g = this.#gauges;
    if (g === undefined) return;
    const endpoints = this.state.kind === 'bound' ? this.state.endpoints : [];
    g.size.set(endpoints.length);
    // A namer that says the same addresses again leaves the sums as they are.
    const before = this.#summed;
    if (before.length !== endpoints.length || before.some((e, i) => e !== endpoints[i])) {
      this.#summed = endpoints;
      g.load.over(endpoints.map((e) => e.meters.load));
      g.poolSize.over(endpoints.map((e) => e.meters.size));
      g.poolWaiters.over(endpoints.map((e) => e.meters.waiting));
    }
    this.#setAvailable();
  }

  #setAvailable(): void {
    const g = this.#gauges;
    if (g === undefined) return;
    let n = 0;
    if (this.state.kind === 'bound') for (const e of this.state.endpoints) if (this.#health.get(e)?.accrual?.state !== 'dead') n++;
    g.available.set(n);
  }

  /** Failure accrual moved an endpoint of this client between alive, dead and probing. */
  #accrualChanged(): void {
    const g = this.#gauges;
    if (g === undefined) return;
    const c = this.accrualCounters;
    g.removals.set(c.removals);
    g.revivals.set(c.revivals);
    g.probes.set(c.probes);
    this.#setAvailable();
  }

  /** Calls `f` once the state is no longer pending (or the client closes). */
  whenSettled(f: () => void): Closable {
    if (this.state.kind !== 'pending' || this.#closed) {
      f();
      return { close() {} };
    }
    this.#waiters.push(f);
    return {
      close: () => {
        const i = this.#waiters.indexOf(f);
        if (i >= 0) this.#waiters.splice(i, 1);
      },
    };
  }

  /** The endpoint for one request, by the client's balancer; undefined when the set is empty. */
  pick(endpoints: readonly E[]): E | undefined {
    const s = this.state;
    return this.#balancer.pick(endpoints, s.kind === 'bound' ? s.weights : undefined, this.#health);
  }

  /**
   * The outcome of one attempt on `endpoint`: its health and latency as this client sees them.
   * `connectFailed` when no connection could be made (what failFast watches).
   */
  observe(endpoint: E, success: boolean, latencyMs: number, connectFailed = false): void {
    const h = this.#health.get(endpoint);
    if (h === undefined) return;
    h.accrual?.record(success);
    // Any answer shows the endpoint can be connected to.
    h.failFast?.record(!connectFailed);
    h.latency?.observe(latencyMs);
  }

  /**
   * The metrics of the requests this client carried for logical name `service`; at most
   * {@link MAX_SERVICES_PER_CLIENT} names per client, so a flood of names cannot multiply them.
   */
  serviceStats(service: ServiceNode): RequestStats | undefined {
    // Most clients carry one name: the last one found is kept at hand.
    if (service === this.#lastService) return this.#lastServiceStats;
    const m = this.#metrics;
    // A closed client (a request that outlived it) makes no scope nobody would drop.
    if (m === undefined || this.scope === undefined || this.#closed) return undefined;
    let s = this.#byService.get(service);
    if (s === undefined) {
      if (this.#byService.size >= MAX_SERVICES_PER_CLIENT) return undefined;
      const scope = `${this.scope}/service/${service.id}`;
      s = new RequestStats(m, scope);
      m.labelScope(scope, 'service', service.id);
      this.#byService.set(service, s);
      // The service tells this client when it expires, and no other.
      service.clients.add(this);
    }
    this.#lastService = service;
    this.#lastServiceStats = s;
    return s;
  }

  /** Drops the metrics this client keeps for `service` (it has expired). */
  forgetService(service: ServiceNode): void {
    if (service === this.#lastService) this.#lastService = this.#lastServiceStats = undefined;
    if (!this.#byService.delete(service) || this.scope === undefined) return;
    this.#metrics?.removeScope(`${this.scope}/service/${service.id}`);
  }

  /** The accrual state of an endpoint of this client (for state pages and tests). */
  healthOf(endpoint: E): EndpointHealth | undefined {
    return this.#health.get(endpoint);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sub?.close();
    this.#sub = undefined;
    const endpoints = this.state.kind === 'bound' ? this.state.endpoints : [];
    this.state = PENDING;
    // The sums leave the endpoints before they are let go (an endpoint's meters go with it).
    this.#setGauges();
    for (const e of endpoints) this.#pool.release(e);
    this.#health.clear();
    // The client's scope goes with it (the router drops it), the service scopes inside it too:
    // its services need not tell it, nor keep it alive.
    for (const s of this.#byService.keys()) s.clients.delete(this);
    this.#byService.clear();
    this.#lastService = this.#lastServiceStats = undefined;
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }
}

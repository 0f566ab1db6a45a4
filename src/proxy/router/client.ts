// The client tier: one per bound name (keyed by its id, `/#/io.l5d.fs/web`), holding the live
// endpoint set of that name and choosing an endpoint per request. Endpoints themselves are
// shared between clients by address (see endpoints.ts).

import { type Closable, RetryBudget, type RetryBudgetConfig } from '../../core/index.ts';
import { type Addr, type Address, addressKey, type BoundName, ENDPOINT_WEIGHT_META_KEY } from '../../dtab/index.ts';
import { Balancer, type BalancerPolicy, type PeakEwma } from './balancer.ts';
import { type Counter, type MetricsRegistry, RequestStats } from '../../metrics/index.ts';
import type { EndpointPool } from './endpoints.ts';
import type { FailureAccrual } from './failure-accrual.ts';

/** What the router needs of an endpoint; the protocol's connection pool behind it is its own. */
export interface Endpoint {
  readonly address: Address;
  /** `host:port`, brackets around IPv6. */
  readonly key: string;
  /** Requests in flight: the balancer prefers the less loaded. */
  readonly load: number;
  /** Set by the router when the endpoint is made: whether it is in the balancer now. */
  accrual: FailureAccrual | undefined;
  /** Set by the router for latency-aware balancers: the endpoint's response latency. */
  latency: PeakEwma | undefined;
  /** Releases connections; called once no client uses the endpoint. */
  close(): void;
}

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
const NEG = { kind: 'neg' } as const;

export class ClientNode<E extends Endpoint> implements Closable {
  readonly bound: BoundName;
  /** Replaced, never mutated, on each change of the address set. */
  state: ClientState<E> = PENDING;
  /** Connection failures are sent again to another endpoint within this budget. */
  readonly requeues: RetryBudget;
  readonly #pool: EndpointPool<E>;
  #sub: Closable | undefined;
  #waiters: (() => void)[] = [];
  #closed = false;

  readonly #balancer: Balancer<E>;
  /** The client's metrics scope (`rt/<router>/client/<id>`), when metrics are kept. */
  readonly scope: string | undefined;
  readonly stats: RequestStats | undefined;
  readonly requeueCounter: Counter | undefined;

  constructor(bound: BoundName, pool: EndpointPool<E>, requeueBudget: RetryBudgetConfig, balancer: BalancerPolicy, metrics?: MetricsRegistry, scope?: string) {
    this.bound = bound;
    this.#pool = pool;
    this.#balancer = new Balancer(balancer);
    this.scope = metrics === undefined ? undefined : scope;
    if (metrics !== undefined && scope !== undefined) {
      this.stats = new RequestStats(metrics, scope);
      this.requeueCounter = metrics.counter(`${scope}/retries/requeues`);
      metrics.gauge(`${scope}/loadbalancer/size`, () => (this.state.kind === 'bound' ? this.state.endpoints.length : 0));
      metrics.gauge(`${scope}/loadbalancer/available`, () =>
        this.state.kind === 'bound' ? this.state.endpoints.filter((e) => e.accrual === undefined || e.accrual.state === 'alive').length : 0,
      );
      metrics.gauge(`${scope}/loadbalancer/load`, () => (this.state.kind === 'bound' ? this.state.endpoints.reduce((a, e) => a + e.load, 0) : 0));
    } else {
      this.stats = undefined;
      this.requeueCounter = undefined;
    }
    this.requeues = new RetryBudget(requeueBudget);
    this.#sub = bound.addr.observe((addr) => this.#update(addr));
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
        const endpoints = addr.addrs.map((a) => this.#pool.acquire(a));
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
    if (before.kind === 'bound' && before !== this.state) for (const e of before.endpoints) this.#pool.release(e);
    if (this.state.kind !== 'pending' && this.#waiters.length > 0) {
      const ws = this.#waiters;
      this.#waiters = [];
      for (const w of ws) w();
    }
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
    return this.#balancer.pick(endpoints, s.kind === 'bound' ? s.weights : undefined);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sub?.close();
    this.#sub = undefined;
    if (this.state.kind === 'bound') for (const e of this.state.endpoints) this.#pool.release(e);
    this.state = PENDING;
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }
}

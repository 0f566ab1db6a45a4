// The client tier: one per bound name (keyed by its id, `/#/io.l5d.fs/web`), holding the live
// endpoint set of that name and choosing an endpoint per request. Endpoints themselves are
// shared between clients by address (see endpoints.ts).

import { type Closable, RetryBudget, type RetryBudgetConfig } from '../../core/index.ts';
import { type Addr, type Address, addressKey, type BoundName } from '../../dtab/index.ts';
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
  /** Releases connections; called once no client uses the endpoint. */
  close(): void;
}

export type ClientState<E> =
  | { readonly kind: 'pending' }
  | { readonly kind: 'neg' }
  | { readonly kind: 'failed'; readonly error: Error }
  | { readonly kind: 'bound'; readonly endpoints: readonly E[]; readonly addresses: readonly string[] };

const PENDING = { kind: 'pending' } as const;
const IN = 0;
const PROBE = 1;
const OUT = 2;

/** In the balancer, due a probe now (which it then takes), or out. */
function standing(e: Endpoint): number {
  const a = e.accrual;
  if (a === undefined || a.state === 'alive') return IN;
  if (a.state === 'dead' && a.available()) return PROBE;
  return OUT;
}
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

  constructor(bound: BoundName, pool: EndpointPool<E>, requeueBudget: RetryBudgetConfig) {
    this.bound = bound;
    this.#pool = pool;
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
        this.state = { kind: 'bound', endpoints, addresses: addr.addrs.map(addressKey) };
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

  /**
   * An endpoint for one request: of two chosen at random, the available one, or the less
   * loaded when both are (power of two choices). Endpoints failure accrual took out are
   * skipped, unless all are out: then all are used, rather than the service black-holed.
   * Undefined when the set is empty.
   */
  pick(endpoints: readonly E[]): E | undefined {
    const n = endpoints.length;
    if (n <= 1) return endpoints[0];
    const i = (Math.random() * n) | 0;
    let j = (Math.random() * (n - 1)) | 0;
    if (j >= i) j++;
    const a = endpoints[i]!;
    const b = endpoints[j]!;
    const sa = standing(a);
    const sb = standing(b);
    // An endpoint whose backoff just ended takes this request as its probe.
    if (sa === PROBE) return a;
    if (sb === PROBE) return b;
    if (sa === IN && sb === IN) return b.load < a.load ? b : a;
    if (sa === IN) return a;
    if (sb === IN) return b;
    // Both out (or probing): the first endpoint that will take a request, from a random start.
    for (let k = 0; k < n; k++) {
      const e = endpoints[(i + k) % n]!;
      if (e.accrual === undefined || e.accrual.available()) return e;
    }
    return b.load < a.load ? b : a;
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

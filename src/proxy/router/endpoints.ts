// Endpoints shared by address across clients, counted by use: an endpoint (and its connection
// pool) lives while some client's address set holds it, and is closed when the last lets go.

import { type Address, addressKey } from '../../dtab/index.ts';
import type { Endpoint } from './client.ts';
import { PeakEwma } from './balancer.ts';
import { type AccrualCounters, FailureAccrual, type FailureAccrualPolicy } from './failure-accrual.ts';

export class EndpointPool<E extends Endpoint> {
  readonly #make: (address: Address) => E;
  readonly #live = new Map<string, { endpoint: E; refs: number }>();
  readonly #accrual: FailureAccrualPolicy;
  /** What failure accrual did across the pool's endpoints. */
  readonly accrualCounters: AccrualCounters = { removals: 0, revivals: 0, probes: 0 };

  readonly #latencyDecayMs: number | undefined;

  /** `latencyDecayMs`, when given, gives every endpoint a latency average (for ewma). */
  constructor(make: (address: Address) => E, accrual: FailureAccrualPolicy, latencyDecayMs?: number) {
    this.#make = make;
    this.#accrual = accrual;
    this.#latencyDecayMs = latencyDecayMs;
  }

  acquire(address: Address): E {
    const key = addressKey(address);
    let entry = this.#live.get(key);
    if (entry === undefined) {
      const endpoint = this.#make(address);
      if (this.#accrual.kind !== 'none') endpoint.accrual = new FailureAccrual(this.#accrual, this.accrualCounters);
      if (this.#latencyDecayMs !== undefined) endpoint.latency = new PeakEwma(this.#latencyDecayMs);
      entry = { endpoint, refs: 0 };
      this.#live.set(key, entry);
    }
    entry.refs++;
    return entry.endpoint;
  }

  release(endpoint: E): void {
    const entry = this.#live.get(endpoint.key);
    if (entry === undefined || entry.endpoint !== endpoint) return;
    if (--entry.refs > 0) return;
    this.#live.delete(endpoint.key);
    endpoint.close();
  }

  get size(): number {
    return this.#live.size;
  }

  /** Every live endpoint (for state pages and tests). */
  endpoints(): E[] {
    return [...this.#live.values()].map((e) => e.endpoint);
  }

  close(): void {
    for (const { endpoint } of this.#live.values()) endpoint.close();
    this.#live.clear();
  }
}

// Endpoints shared by address across clients, counted by use: an endpoint (and its connection
// pool) lives while some client's address set holds it, and is closed when the last lets go;
// then it is retired at once: its meters leave the metrics' memory, and the requests still on
// it go on counting in memory of their own.

import { type Address, addressKey } from '../../dtab/index.ts';
import type { Endpoint, PoolParams } from './client.ts';

export class EndpointPool<E extends Endpoint> {
  readonly #make: (address: Address, pool: PoolParams) => E;
  readonly #retire: (endpoint: E) => void;
  readonly #live = new Map<string, { endpoint: E; refs: number; key: string }>();
  readonly #keys = new Map<E, string>();

  /** `retire` is called on each endpoint once it is closed. */
  constructor(make: (address: Address, pool: PoolParams) => E, retire: (endpoint: E) => void = () => {}) {
    this.#make = make;
    this.#retire = retire;
  }

  /** The endpoint of `address` with connection pool `pool`: clients with equal pools share it. */
  acquire(address: Address, pool: PoolParams): E {
    const key = poolKey(addressKey(address), pool);
    let entry = this.#live.get(key);
    if (entry === undefined) {
      entry = { endpoint: this.#make(address, pool), refs: 0, key };
      this.#live.set(key, entry);
      this.#keys.set(entry.endpoint, key);
    }
    entry.refs++;
    return entry.endpoint;
  }

  release(endpoint: E): void {
    const key = this.#keys.get(endpoint);
    const entry = key === undefined ? undefined : this.#live.get(key);
    if (entry === undefined || entry.endpoint !== endpoint) return;
    if (--entry.refs > 0) return;
    this.#live.delete(entry.key);
    this.#keys.delete(endpoint);
    try {
      endpoint.close();
    } finally {
      this.#retire(endpoint);
    }
  }

  get size(): number {
    return this.#live.size;
  }

  /** Every live endpoint (for state pages and tests). */
  endpoints(): E[] {
    return [...this.#live.values()].map((e) => e.endpoint);
  }

  close(): void {
    for (const { endpoint } of this.#live.values()) {
      try {
        endpoint.close();
      } finally {
        this.#retire(endpoint);
      }
    }
    this.#live.clear();
    this.#keys.clear();
  }
}

function poolKey(address: string, pool: PoolParams): string {
  return `${address} ${pool.minSize} ${pool.maxSize} ${pool.idleTimeMs} ${pool.maxWaiters}`;
}

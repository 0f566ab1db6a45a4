// Endpoints shared by address across clients, counted by use: an endpoint (and its connection
// pool) lives while some client's address set holds it, and is closed when the last lets go.

import { type Address, addressKey } from '../../dtab/index.ts';
import type { Endpoint } from './client.ts';

export class EndpointPool<E extends Endpoint> {
  readonly #make: (address: Address) => E;
  readonly #live = new Map<string, { endpoint: E; refs: number }>();

  constructor(make: (address: Address) => E) {
    this.#make = make;
  }

  acquire(address: Address): E {
    const key = addressKey(address);
    let entry = this.#live.get(key);
    if (entry === undefined) {
      entry = { endpoint: this.#make(address), refs: 0 };
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

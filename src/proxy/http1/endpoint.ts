// The endpoint tier for HTTP/1.1: one keep-alive connection pool per upstream address,
// shared by every client whose address set holds it.

import { Agent } from 'node:http';
import { type Address, addressKey } from '../../dtab/index.ts';
import type { Endpoint } from '../router/index.ts';

export interface Http1EndpointOptions {
  /** Idle pooled connections are closed after this long (upstreams close theirs too). */
  readonly idleMs: number;
  /** Idle connections kept per endpoint. */
  readonly maxIdle: number;
}

export const DEFAULT_ENDPOINT_OPTIONS: Http1EndpointOptions = { idleMs: 4_000, maxIdle: 256 };

export class Http1Endpoint implements Endpoint {
  readonly address: Address;
  readonly key: string;
  /** Connection pool: most recently used connection first, so idle ones age out. */
  readonly agent: Agent;
  load = 0;
  #closed = false;

  constructor(address: Address, options: Http1EndpointOptions = DEFAULT_ENDPOINT_OPTIONS) {
    this.address = address;
    this.key = addressKey(address);
    this.agent = new Agent({ keepAlive: true, scheduling: 'lifo', maxFreeSockets: options.maxIdle, timeout: options.idleMs });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops pooling; connections in use finish their request and then close. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Idle connections close now; busy ones finish and are then closed rather than pooled.
    this.agent.maxFreeSockets = 0;
    for (const list of Object.values(this.agent.freeSockets)) for (const s of list ?? []) s.destroy();
  }
}

// The endpoint tier of HTTP/1.1: the pool of connections to one address (linkerd's
// `hostConnectionPool`), the most recently used first so that the others age out, with the
// requests that wait for a connection when it is full, and the meters its clients' gauges add up.

import { type Address, addressKey } from '../../dtab/index.ts';
import { DEFAULT_POOL, type Endpoint, type EndpointMeters, ownMeters, type PoolParams } from '../router/index.ts';
import { PoolExhaustedError } from '../errors.ts';
import { UpstreamConn } from './upstream.ts';

const ALWAYS = (): boolean => true;

/** A request waiting for a connection of a full pool. */
export interface Waiter {
  readonly use: (c: UpstreamConn) => void;
  readonly live: () => boolean;
  /** Out of the count: served, dropped, or abandoned by its request. */
  gone: boolean;
}

/** Idle connections kept per endpoint, at most, whatever the pool's size. */
const MAX_IDLE = 256;

/** The endpoint tier for HTTP/1.1: a pool of connections to one address (`hostConnectionPool`). */
export class Http1Endpoint implements Endpoint {
  readonly address: Address;
  readonly key: string;
  readonly pool: PoolParams;
  readonly meters: EndpointMeters;
  #load = 0;
  readonly #idle: UpstreamConn[] = [];
  /** Connections open or opening, idle ones included. */
  #total = 0;
  /** Requests waiting for a connection, first come first served; `live` false once gone. */
  #waiters: Waiter[] = [];
  /** Those of them not gone (the `pool_waiters` meter). */
  #waiting = 0;
  #closed = false;
  /** Closes pooled connections idle too long: one timer per endpoint, not one per request. */
  #sweep: NodeJS.Timeout | undefined = undefined;

  constructor(address: Address, pool: PoolParams = DEFAULT_POOL, meters: EndpointMeters = ownMeters()) {
    this.address = address;
    this.key = addressKey(address);
    this.pool = pool;
    this.meters = meters;
  }

  /** Requests in flight, kept in its meter for the clients' `loadbalancer/load`. */
  get load(): number {
    return this.#load;
  }

  set load(n: number) {
    this.#load = n;
    this.meters.load.set(n);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  /** Connections open or opening (linkerd's `pool_size`). */
  get size(): number {
    return this.#total;
  }

  /** Requests waiting for a connection (linkerd's `pool_waiters`). */
  get waiting(): number {
    this.#dropGone();
    return this.#waiting;
  }

  /** Takes `w` out of the count (once). */
  #leaves(w: Waiter): void {
    if (w.gone) return;
    w.gone = true;
    this.meters.waiting.set(--this.#waiting);
  }

  /**
   * A waiting request has given up (timed out, its client left, sent elsewhere): it is no
   * longer counted, and is skipped when a connection frees.
   */
  abandon(w: Waiter): void {
    this.#leaves(w);
    // Behind a connection held long (a slow upstream), given-up places would pile up.
    if (this.#waiters.length > 2 * this.#waiting + 64) this.#waiters = this.#waiters.filter((x) => !x.gone);
  }

  /** Forgets waiters that are gone, or whose requests have gone without saying so. */
  #dropGone(): void {
    let any = false;
    for (const w of this.#waiters) {
      if (!w.gone && !w.live()) this.#leaves(w);
      any ||= w.gone;
    }
    if (any) this.#waiters = this.#waiters.filter((w) => !w.gone);
  }

  /** The first waiter still wanting a connection, if any. */
  #nextWaiter(): Waiter | undefined {
    for (let w = this.#waiters.shift(); w !== undefined; w = this.#waiters.shift()) {
      if (w.gone) continue;
      const live = w.live();
      this.#leaves(w);
      if (live) return w;
    }
    return undefined;
  }

  /**
   * Gives `use` a connection: a pooled one, a new one while the pool is below `maxSize`, or the
   * first one freed. `fresh` asks for a new connection; a `tunnel` (an upgrade, which keeps its
   * connection) always gets a new one of its own.
   * Returns the request's place in the queue when it waits ({@link abandon} it on giving up).
   * @throws PoolExhaustedError when `maxWaiters` requests are waiting already
   */
  acquire(fresh: boolean, tunnel: boolean, use: (c: UpstreamConn) => void, live: () => boolean = ALWAYS): Waiter | undefined {
    if (!fresh && !tunnel) {
      while (this.#idle.length > 0) {
        const c = this.#idle.pop()!;
        if (c.closed || c.socket.destroyed) continue;
        c.reused = true;
        use(c);
        return undefined;
      }
    }
    if (this.#total < this.pool.maxSize || this.#closed) {
      use(this.#open(tunnel));
      return undefined;
    }
    if (this.#waiting >= this.pool.maxWaiters) this.#dropGone();
    if (this.#waiting >= this.pool.maxWaiters) throw new PoolExhaustedError(this.key, this.pool.maxWaiters);
    const w: Waiter = { use, live, gone: false };
    this.#waiters.push(w);
    this.meters.waiting.set(++this.#waiting);
    return w;
  }

  #open(tunnel: boolean): UpstreamConn {
    this.meters.size.set(++this.#total);
    return new UpstreamConn(this, tunnel);
  }

  /** Takes back a connection between exchanges: to a waiting request first, else to the pool. */
  idle(c: UpstreamConn): void {
    const waiter = this.#nextWaiter();
    if (waiter !== undefined) {
      c.reused = true;
      waiter.use(c);
      return;
    }
    if (this.#closed || this.#idle.length >= MAX_IDLE) {
      c.destroy();
      return;
    }
    c.idleSince = Date.now();
    this.#idle.push(c);
    if (this.#sweep === undefined) {
      this.#sweep = setInterval(() => this.#closeIdle(), Math.max(100, this.pool.idleTimeMs / 4));
      this.#sweep.unref();
    }
  }

  #closeIdle(): void {
    const before = Date.now() - this.pool.idleTimeMs;
    // The least recently used are first: stop at the first still fresh, or at minSize.
    while (this.#idle.length > this.pool.minSize && this.#idle[0]!.idleSince < before) this.#idle.shift()!.destroy();
    if (this.#idle.length <= this.pool.minSize) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }

  /** Drops a connection that closed or left for good; a waiting request gets a new one. */
  forget(c: UpstreamConn): void {
    const i = this.#idle.lastIndexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
    if (c.counted) {
      c.counted = false;
      this.meters.size.set(--this.#total);
      const waiter = this.#nextWaiter();
      if (waiter !== undefined) waiter.use(this.#open(false));
    }
  }

  /** Stops pooling; connections in use finish their exchange and then close. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweep = undefined;
    for (const c of this.#idle.splice(0)) c.destroy();
    // Nobody will free a connection for these: each gets one of its own.
    for (const w of this.#waiters.splice(0)) {
      if (w.gone) continue;
      const live = w.live();
      this.#leaves(w);
      if (live) w.use(this.#open(false));
    }
  }
}

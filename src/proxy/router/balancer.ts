// Load balancers of a client (linkerd's `loadBalancer`): each picks one endpoint per request
// from the client's current set, synchronously. Endpoints failure accrual took out are
// skipped (one whose backoff just ended takes the request as its probe), unless every one is
// out: then all are used, rather than the service black-holed. Weights from the namer (an
// `io.l5d.fs` line's `* weight`) divide an endpoint's load, as Finagle's weighted balancers do.

import type { Endpoint } from './client.ts';
import type { FailureAccrual } from './failure-accrual.ts';

/** One endpoint's health as one client sees it. */
export interface EndpointHealth {
  readonly accrual: FailureAccrual | undefined;
  /** `failFast`: a connection failure takes the endpoint out until a probe connects. */
  readonly failFast?: FailureAccrual | undefined;
  readonly latency: PeakEwma | undefined;
}

type Health<E> = ReadonlyMap<E, EndpointHealth>;

export type BalancerKind = 'p2c' | 'ewma' | 'heap' | 'roundRobin' | 'aperture';

export interface BalancerPolicy {
  readonly kind: BalancerKind;
  /** ewma: how fast latency observations fade (linkerd's `decayTimeMs`, 10 s). */
  readonly decayTimeMs: number;
  /** aperture: the band of load per endpoint the aperture keeps to (0.5 to 2). */
  readonly lowLoad?: number;
  readonly highLoad?: number;
  /** aperture: endpoints always in the aperture (1). */
  readonly minAperture?: number;
  /** aperture: the window the load is averaged over (5 s). */
  readonly smoothWindowMs?: number;
}

export const DEFAULT_BALANCER: BalancerPolicy = { kind: 'p2c', decayTimeMs: 10_000 };
export const DEFAULT_APERTURE = { lowLoad: 0.5, highLoad: 2, minAperture: 1, smoothWindowMs: 5_000 } as const;

/**
 * Peak-sensitive moving average of response latency (Finagle's PeakEwma): a slower answer
 * raises it at once, faster ones lower it gradually, and it fades with time so that a slow
 * endpoint gets tried again.
 */
export class PeakEwma {
  readonly #tauMs: number;
  #cost = 0;
  #stamp = 0;

  constructor(decayTimeMs: number) {
    this.#tauMs = decayTimeMs;
  }

  observe(rttMs: number, now: number = performance.now()): void {
    const cost = this.cost(now);
    this.#cost = rttMs > cost ? rttMs : cost + (rttMs - cost) * (1 - Math.exp(-Math.max(0, now - this.#stamp) / this.#tauMs));
    this.#stamp = now;
  }

  cost(now: number = performance.now()): number {
    if (this.#cost === 0) return 0;
    return this.#cost * Math.exp(-Math.max(0, now - this.#stamp) / this.#tauMs);
  }
}

const NO_HEALTH: ReadonlyMap<unknown, EndpointHealth> = new Map();
const IN = 0;
const PROBE = 1;
const OUT = 2;

/** In the balancer, due a probe now (which it then takes), or out. */
function standing<E>(e: E, health: Health<E>): number {
  const h = health.get(e);
  if (h === undefined) return IN;
  const a = accrualStanding(h.accrual);
  // Out by either measure is out; a probe is due only when the other lets it in.
  if (a === OUT) return OUT;
  const f = accrualStanding(h.failFast);
  if (f === OUT) return OUT;
  return a === PROBE || f === PROBE ? PROBE : IN;
}

function accrualStanding(a: FailureAccrual | undefined): number {
  if (a === undefined || a.state === 'alive') return IN;
  // Asking does not take the probe: only the endpoint chosen does (see `claim`).
  return a.due() ? PROBE : OUT;
}

/** The endpoint chosen takes its probe, if one is due. */
function claim<E>(e: E, health: Health<E>): E {
  const h = health.get(e);
  if (h !== undefined) {
    if (h.accrual !== undefined && h.accrual.state !== 'alive') h.accrual.available();
    if (h.failFast !== undefined && h.failFast.state !== 'alive') h.failFast.available();
  }
  return e;
}

/** An endpoint that takes a request when all are out: the first that will, from `start`. */
function anyOf<E extends Endpoint>(endpoints: readonly E[], start: number, health: Health<E>): E {
  const n = endpoints.length;
  for (let k = 0; k < n; k++) {
    const e = endpoints[(start + k) % n]!;
    if (standing(e, health) !== OUT) return claim(e, health);
  }
  return endpoints[start % n]!;
}

/** A balancer of one client. */
export class Balancer<E extends Endpoint> {
  readonly policy: BalancerPolicy;
  #next = 0;
  /** aperture: the endpoints in a random order of this client's own, and how many are in use. */
  #order: readonly E[] = [];
  #orderOf: readonly E[] | undefined = undefined;
  #aperture = 0;
  #avgLoad = 0;
  #stamp = 0;

  constructor(policy: BalancerPolicy) {
    this.policy = policy;
  }

  /** The endpoint for one request; undefined when the set is empty. */
  pick(endpoints: readonly E[], weights: readonly number[] | undefined, health: Health<E> = NO_HEALTH as Health<E>): E | undefined {
    const n = endpoints.length;
    if (n <= 1) return endpoints[0];
    switch (this.policy.kind) {
      case 'roundRobin':
        return claim(this.#roundRobin(endpoints, health), health);
      case 'heap':
        return claim(this.#leastLoaded(endpoints, weights, health), health);
      case 'aperture':
        return claim(this.#apertured(endpoints, health), health);
      default:
        return claim(this.#twoChoices(endpoints, weights, health), health);
    }
  }

  #cost(e: E, w: number, health: Health<E>): number {
    const latency = this.policy.kind === 'ewma' ? health.get(e)?.latency : undefined;
    if (latency !== undefined) {
      const lat = latency.cost();
      // No latency known yet while requests are out: assume the worst until one answers.
      if (lat === 0) return e.load === 0 ? 0 : Number.MAX_SAFE_INTEGER / 2;
      return (lat * (e.load + 1)) / w;
    }
    return e.load / w;
  }

  #twoChoices(endpoints: readonly E[], weights: readonly number[] | undefined, health: Health<E>): E {
    const n = endpoints.length;
    const i = (Math.random() * n) | 0;
    let j = (Math.random() * (n - 1)) | 0;
    if (j >= i) j++;
    const a = endpoints[i]!;
    const b = endpoints[j]!;
    const sa = standing(a, health);
    const sb = standing(b, health);
    if (sa === PROBE) return a;
    if (sb === PROBE) return b;
    if (sa === IN && sb === IN) return this.#cost(b, weights?.[j] ?? 1, health) < this.#cost(a, weights?.[i] ?? 1, health) ? b : a;
    if (sa === IN) return a;
    if (sb === IN) return b;
    return anyOf(endpoints, i, health);
  }

  #leastLoaded(endpoints: readonly E[], weights: readonly number[] | undefined, health: Health<E>): E {
    let best: E | undefined;
    let bestCost = Infinity;
    const start = (Math.random() * endpoints.length) | 0;
    for (let k = 0; k < endpoints.length; k++) {
      const idx = (start + k) % endpoints.length;
      const e = endpoints[idx]!;
      const s = standing(e, health);
      if (s === PROBE) return e;
      if (s === OUT) continue;
      const c = this.#cost(e, weights?.[idx] ?? 1, health);
      if (c < bestCost) {
        best = e;
        bestCost = c;
      }
    }
    return best ?? anyOf(endpoints, start, health);
  }

  /** The endpoints in use now (for state pages and tests). */
  get aperture(): number {
    return this.#aperture;
  }

  /**
   * Aperture: p2c over a window of the endpoints, in an order random to this client, whose
   * size follows the load so that each endpoint in it carries between `lowLoad` and `highLoad`
   * requests on average: few connections under light load, more as it grows.
   */
  #apertured(endpoints: readonly E[], health: Health<E>): E {
    const p = this.policy;
    const n = endpoints.length;
    if (this.#orderOf !== endpoints) {
      const order = [...endpoints];
      for (let i = order.length - 1; i > 0; i--) {
        const j = (Math.random() * (i + 1)) | 0;
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      this.#order = order;
      this.#orderOf = endpoints;
    }
    const min = Math.min(n, p.minAperture ?? DEFAULT_APERTURE.minAperture);
    if (this.#aperture < min) this.#aperture = min;
    if (this.#aperture > n) this.#aperture = n;
    // The average outstanding requests per endpoint in the aperture, smoothed over the window.
    let load = 0;
    for (let i = 0; i < this.#aperture; i++) load += this.#order[i]!.load;
    const now = performance.now();
    const w = 1 - Math.exp(-(now - this.#stamp) / (p.smoothWindowMs ?? DEFAULT_APERTURE.smoothWindowMs));
    this.#avgLoad += (load / this.#aperture - this.#avgLoad) * w;
    this.#stamp = now;
    if (this.#avgLoad > (p.highLoad ?? DEFAULT_APERTURE.highLoad) && this.#aperture < n) this.#aperture++;
    else if (this.#avgLoad < (p.lowLoad ?? DEFAULT_APERTURE.lowLoad) && this.#aperture > min) this.#aperture--;
    // Endpoints taken out do not count against the window: it reaches past them.
    const window: E[] = [];
    for (let i = 0; i < n && window.length < this.#aperture; i++) {
      const e = this.#order[i]!;
      if (standing(e, health) !== OUT) window.push(e);
    }
    if (window.length === 0) return anyOf(endpoints, 0, health);
    if (window.length === 1) return window[0]!;
    return this.#twoChoices(window, undefined, health);
  }

  #roundRobin(endpoints: readonly E[], health: Health<E>): E {
    const n = endpoints.length;
    for (let k = 0; k < n; k++) {
      const e = endpoints[this.#next++ % n]!;
      if (standing(e, health) !== OUT) return e;
    }
    return anyOf(endpoints, this.#next, health);
  }
}


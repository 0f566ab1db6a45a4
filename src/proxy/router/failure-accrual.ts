// Failure accrual (linkerd's `failureAccrual`): an endpoint that keeps failing is taken out of
// the balancer for a backoff, then let back for one probe; a good answer revives it, a bad one
// sends it back for the next backoff. `io.l5d.consecutiveFailures` counts failures in a row;
// `io.l5d.successRate` keeps a moving average of success over about `requests` answers and
// `io.l5d.successRateWindowed` the success rate over the last `window` seconds; both mark an
// endpoint dead when the rate falls below `successRate` (once they have seen enough).

import { type Backoff, type BackoffSequence, DEFAULT_ACCRUAL_BACKOFF } from '../../core/index.ts';

export interface FailureAccrualPolicy {
  /** linkerd's kind: `io.l5d.consecutiveFailures`, `io.l5d.successRate`, `io.l5d.successRateWindowed` or `none`. */
  readonly kind: string;
  /** consecutiveFailures: failures in a row that mark an endpoint dead. */
  readonly failures: number;
  /** successRate kinds: the rate below which an endpoint is marked dead. */
  readonly successRate?: number;
  /** successRate: the number of answers the moving average spans. */
  readonly requests?: number;
  /** successRateWindowed: the window, in ms. */
  readonly windowMs?: number;
  readonly backoff: Backoff;
}

export const DEFAULT_FAILURE_ACCRUAL: FailureAccrualPolicy = {
  kind: 'io.l5d.consecutiveFailures',
  failures: 5,
  backoff: DEFAULT_ACCRUAL_BACKOFF,
};

export const NO_FAILURE_ACCRUAL: FailureAccrualPolicy = { kind: 'none', failures: Infinity, backoff: DEFAULT_ACCRUAL_BACKOFF };

export type AccrualState = 'alive' | 'dead' | 'probing';

/** A probe that has not reported after this long no longer holds the endpoint out. */
const PROBE_GRACE_MS = 10_000;

/** Counts of what accrual did, for metrics (linkerd's `failure_accrual/{removals,revivals,probes}`). */
export interface AccrualCounters {
  removals: number;
  revivals: number;
  probes: number;
  /** Called after each change of state (and of the counts), for gauges set as they change. */
  readonly changed?: () => void;
}

export class FailureAccrual {
  readonly policy: FailureAccrualPolicy;
  state: AccrualState = 'alive';
  readonly counters: AccrualCounters;
  #failures = 0;
  /** successRate: the moving average and how many answers it has seen. */
  #rate = 1;
  #seen = 0;
  /** successRateWindowed: answers (time, success) within the window, oldest first. */
  #window: { t: number; ok: boolean }[] = [];
  #windowOk = 0;
  #backoff: BackoffSequence | undefined = undefined;
  #reviveAt = 0;
  #probeAt = 0;
  readonly #now: () => number;

  constructor(policy: FailureAccrualPolicy, counters: AccrualCounters, now: () => number = Date.now) {
    this.policy = policy;
    this.counters = counters;
    this.#now = now;
  }

  /**
   * Whether a request may go to the endpoint now. A dead endpoint whose backoff has passed
   * takes one probe (and is unavailable again until the probe's answer).
   */
  available(): boolean {
    if (this.state === 'alive') return true;
    if (this.due()) {
      this.state = 'probing';
      this.#probeAt = this.#now();
      this.counters.probes++;
      this.counters.changed?.();
      return true;
    }
    return false;
  }

  /**
   * Whether a probe is due now, without taking it: the backoff has passed, or a probe sent
   * long ago never reported (its request timed out or its client left).
   */
  due(): boolean {
    const now = this.#now();
    if (this.state === 'dead') return now >= this.#reviveAt;
    return this.state === 'probing' && now >= this.#probeAt + PROBE_GRACE_MS;
  }

  /** Whether the answers so far, ending with this failure, mark the endpoint dead. */
  #failing(): boolean {
    const p = this.policy;
    switch (p.kind) {
      case 'io.l5d.successRate':
        return this.#seen >= (p.requests ?? 1) && this.#rate < (p.successRate ?? 0);
      case 'io.l5d.successRateWindowed': {
        const n = this.#window.length;
        return n > 0 && this.#windowOk / n < (p.successRate ?? 0);
      }
      default:
        return this.#failures >= p.failures;
    }
  }

  #observe(success: boolean): void {
    const p = this.policy;
    if (p.kind === 'io.l5d.successRate') {
      const n = p.requests ?? 1;
      // An exponential moving average spanning about `n` answers.
      this.#rate += ((success ? 1 : 0) - this.#rate) * (2 / (n + 1));
      this.#seen++;
    } else if (p.kind === 'io.l5d.successRateWindowed') {
      const now = this.#now();
      this.#window.push({ t: now, ok: success });
      if (success) this.#windowOk++;
      const oldest = now - (p.windowMs ?? 30_000);
      while (this.#window.length > 0 && this.#window[0]!.t < oldest) if (this.#window.shift()!.ok) this.#windowOk--;
    }
  }

  /** The outcome of one request to the endpoint. */
  record(success: boolean): void {
    this.#observe(success);
    if (success) {
      this.#failures = 0;
      if (this.state !== 'alive') {
        this.state = 'alive';
        this.#backoff = undefined;
        this.counters.revivals++;
        this.counters.changed?.();
        // A revived endpoint starts with a clean record.
        this.#rate = 1;
        this.#seen = 0;
        this.#window = [];
        this.#windowOk = 0;
      }
      return;
    }
    this.#failures++;
    if (this.state === 'probing' || (this.state === 'alive' && this.#failing())) {
      if (this.state === 'alive') this.counters.removals++;
      this.#backoff ??= this.policy.backoff();
      this.state = 'dead';
      this.#reviveAt = this.#now() + this.#backoff.next();
      this.counters.changed?.();
    }
  }
}

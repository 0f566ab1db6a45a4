// Failure accrual (linkerd's `failureAccrual`): an endpoint that keeps failing is taken out of
// the balancer for a backoff, then let back for one probe; a good answer revives it, a bad one
// sends it back for the next backoff. `io.l5d.consecutiveFailures` counts failures in a row.

import { type Backoff, type BackoffSequence, DEFAULT_ACCRUAL_BACKOFF } from '../../core/index.ts';

export interface FailureAccrualPolicy {
  /** linkerd's kind: `io.l5d.consecutiveFailures` or `none`. */
  readonly kind: string;
  /** Failures in a row that mark an endpoint dead. */
  readonly failures: number;
  readonly backoff: Backoff;
}

export const DEFAULT_FAILURE_ACCRUAL: FailureAccrualPolicy = {
  kind: 'io.l5d.consecutiveFailures',
  failures: 5,
  backoff: DEFAULT_ACCRUAL_BACKOFF,
};

export const NO_FAILURE_ACCRUAL: FailureAccrualPolicy = { kind: 'none', failures: Infinity, backoff: DEFAULT_ACCRUAL_BACKOFF };

export type AccrualState = 'alive' | 'dead' | 'probing';

/** Counts of what accrual did, for metrics (linkerd's `failure_accrual/{removals,revivals,probes}`). */
export interface AccrualCounters {
  removals: number;
  revivals: number;
  probes: number;
}

export class FailureAccrual {
  readonly policy: FailureAccrualPolicy;
  state: AccrualState = 'alive';
  readonly counters: AccrualCounters;
  #failures = 0;
  #backoff: BackoffSequence | undefined = undefined;
  #reviveAt = 0;
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
    if (this.state === 'dead' && this.#now() >= this.#reviveAt) {
      this.state = 'probing';
      this.counters.probes++;
      return true;
    }
    return false;
  }

  /** The outcome of one request to the endpoint. */
  record(success: boolean): void {
    if (success) {
      this.#failures = 0;
      if (this.state !== 'alive') {
        this.state = 'alive';
        this.#backoff = undefined;
        this.counters.revivals++;
      }
      return;
    }
    this.#failures++;
    if (this.state === 'probing' || (this.state === 'alive' && this.#failures >= this.policy.failures)) {
      if (this.state === 'alive') this.counters.removals++;
      this.#backoff ??= this.policy.backoff();
      this.state = 'dead';
      this.#reviveAt = this.#now() + this.#backoff.next();
    }
  }
}

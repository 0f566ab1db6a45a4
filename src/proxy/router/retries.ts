// Retries of one request (linkerd's `service.retries`): each retry is taken from the service's
// budget, waits its backoff, and is routed afresh (another endpoint, or a changed binding).
// The protocol decides when an answer is a retryable failure and asks here whether it may.

import { type Backoff, type BackoffSequence, constantBackoff, DEFAULT_RETRY_BUDGET, type RetryBudgetConfig } from '../../core/index.ts';
import type { ServiceNode } from './stats.ts';

export interface RetryPolicy {
  readonly budget: RetryBudgetConfig;
  readonly backoff: Backoff;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { budget: DEFAULT_RETRY_BUDGET, backoff: constantBackoff(0) };

/** Retries of one request at most, whatever the budget. */
export const MAX_RETRIES = 25;

/** A protocol's signal that the answer was discarded for a retry the budget allowed. */
export class RetryRequest extends Error {
  constructor() {
    super('retry');
  }
}

/** The retry state of one request. */
export class Attempts {
  readonly service: ServiceNode;
  readonly startMs: number;
  retries = 0;
  #backoff: BackoffSequence | undefined = undefined;

  constructor(service: ServiceNode) {
    this.service = service;
    this.startMs = performance.now();
  }

  /** Takes a retry from the budget, or says no (and takes nothing). */
  tryRetry(): boolean {
    if (this.retries >= MAX_RETRIES) return false;
    if (!this.service.budget.tryWithdraw()) {
      this.service.budgetExhausted?.incr();
      return false;
    }
    this.retries++;
    this.service.retriesTotal?.incr();
    return true;
  }

  /** How long to wait before the retry just taken. */
  nextDelay(): number {
    this.#backoff ??= this.service.params.retries.backoff();
    return this.#backoff.next();
  }
}

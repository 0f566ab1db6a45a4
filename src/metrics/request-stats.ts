// The four metrics linkerd keeps for each server, service and client scope.

import type { Counter } from './counter.ts';
import type { Histogram } from './histogram.ts';
import type { MetricsRegistry } from './metrics.ts';

/** The scope handles of one request-carrying node: requests, success, failures, latency. */
export class RequestStats {
  readonly requests: Counter;
  readonly success: Counter;
  readonly failures: Counter;
  readonly latency: Histogram;

  constructor(registry: MetricsRegistry, scope: string) {
    this.requests = registry.counter(`${scope}/requests`);
    this.success = registry.counter(`${scope}/success`);
    this.failures = registry.counter(`${scope}/failures`);
    this.latency = registry.histogram(`${scope}/request_latency_ms`);
  }

  /** One finished request. */
  record(success: boolean, latencyMs: number): void {
    this.requests.incr();
    if (success) this.success.incr();
    else this.failures.incr();
    this.latency.add(latencyMs);
  }
}

// The router's metrics under linkerd's names (spec/linkerd.md §9): per service (logical name)
// `rt/<router>/service/<svc>/...`, per client (bound id) `rt/<router>/client/<id>/...`. A node's
// handles are made with the node and its scope is dropped with it, as linkerd prunes idle ones.

import type { RetryBudget } from '../../core/index.ts';
import { type Counter, type Histogram, type MetricsRegistry, RequestStats } from '../../metrics/index.ts';

/** A scope segment from a path: its text without the leading slash. */
export function scopeOf(pathShow: string): string {
  return pathShow.startsWith('/') ? pathShow.slice(1) : pathShow;
}

/** One logical name's retry budget and metrics. */
export class ServiceNode {
  readonly budget: RetryBudget;
  readonly scope: string;
  readonly stats: RequestStats | undefined;
  readonly retriesTotal: Counter | undefined;
  readonly retriesPerRequest: Histogram | undefined;
  readonly budgetExhausted: Counter | undefined;

  constructor(budget: RetryBudget, registry: MetricsRegistry | undefined, scope: string) {
    this.budget = budget;
    this.scope = scope;
    if (registry === undefined) {
      this.stats = this.retriesTotal = this.retriesPerRequest = this.budgetExhausted = undefined;
      return;
    }
    this.stats = new RequestStats(registry, scope);
    this.retriesTotal = registry.counter(`${scope}/retries/total`);
    this.retriesPerRequest = registry.histogram(`${scope}/retries/per_request`);
    this.budgetExhausted = registry.counter(`${scope}/retries/budget_exhausted`);
    registry.gauge(`${scope}/retries/budget`, () => budget.retriesAvailable);
  }
}

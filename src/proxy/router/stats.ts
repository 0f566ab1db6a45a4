// The router's metrics under linkerd's names (spec/linkerd.md §9): per service (logical name)
// `rt/<router>/service/<svc>/...`, per client (bound id) `rt/<router>/client/<id>/...`. A node's
// handles are made with the node and its scope is dropped with it, as linkerd prunes idle ones.

import { DEFAULT_RETRY_BUDGET, RetryBudget } from '../../core/index.ts';
import { type Counter, type Histogram, type MetricsRegistry, RequestStats } from '../../metrics/index.ts';
import { DEFAULT_CLASSIFIER_KIND, RESPONSE_CLASSIFIERS, type ResponseClassifier } from '../classifier.ts';
import { DEFAULT_BALANCER } from './balancer.ts';
import { type ClientParams, DEFAULT_POOL } from './client.ts';
import { DEFAULT_FAILURE_ACCRUAL } from './failure-accrual.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retries.ts';

/** linkerd's service parameters, resolved for one logical name. */
export interface ServiceParams {
  readonly retries: RetryPolicy;
  readonly classifier: ResponseClassifier;
  /** The whole request, retries included; undefined for none. */
  readonly totalTimeoutMs: number | undefined;
}

export const DEFAULT_SERVICE_PARAMS: ServiceParams = {
  retries: DEFAULT_RETRY_POLICY,
  classifier: RESPONSE_CLASSIFIERS[DEFAULT_CLASSIFIER_KIND]!,
  totalTimeoutMs: undefined,
};

export const DEFAULT_CLIENT_PARAMS: ClientParams = {
  pool: DEFAULT_POOL,
  balancer: DEFAULT_BALANCER,
  failureAccrual: DEFAULT_FAILURE_ACCRUAL,
  requeueBudget: DEFAULT_RETRY_BUDGET,
  attemptTimeoutMs: undefined,
  failFast: false,
};

/** A client that keeps metrics for a logical name, as its service node sees it. */
export interface ServiceMetricsHolder {
  /** Drops the metrics kept for `service` (it has expired). */
  forgetService(service: ServiceNode): void;
}

/** One logical name's parameters, retry budget and metrics. */
export class ServiceNode {
  readonly params: ServiceParams;
  readonly budget: RetryBudget;
  readonly scope: string;
  /** The logical name as metrics name it (`svc/web`). */
  readonly id: string;
  readonly stats: RequestStats | undefined;
  readonly retriesTotal: Counter | undefined;
  readonly retriesPerRequest: Histogram | undefined;
  readonly budgetExhausted: Counter | undefined;
  /** The clients keeping metrics for this name (`.../client/<id>/service/<name>`): told when it goes. */
  readonly clients = new Set<ServiceMetricsHolder>();

  /** `id` is the logical name as its scope names it (`svc/web`). */
  constructor(params: ServiceParams, registry: MetricsRegistry | undefined, scope: string, id: string) {
    this.params = params;
    const budget = new RetryBudget(params.retries.budget);
    this.budget = budget;
    this.scope = scope;
    this.id = id;
    if (registry === undefined) {
      this.stats = this.retriesTotal = this.retriesPerRequest = this.budgetExhausted = undefined;
      return;
    }
    this.stats = new RequestStats(registry, scope);
    registry.labelScope(scope, 'service', id);
    this.retriesTotal = registry.counter(`${scope}/retries/total`);
    this.retriesPerRequest = registry.histogram(`${scope}/retries/per_request`);
    this.budgetExhausted = registry.counter(`${scope}/retries/budget_exhausted`);
    registry.gauge(`${scope}/retries/budget`, () => budget.retriesAvailable);
  }
}

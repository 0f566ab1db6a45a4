// Public surface of the router core: protocol-independent routing from a destination to an
// endpoint.
export { ClientNode, DEFAULT_POOL, ownMeters, scopeOf } from './client.ts';
export type { ClientParams, ClientState, Endpoint, EndpointMeters, PoolParams } from './client.ts';
export { DstDtabCache } from './dst.ts';
export type { Dst, DstDtabs } from './dst.ts';
export { EndpointPool } from './endpoints.ts';
export { boundChoices, pickBound } from './pick.ts';
export { explainRoute } from './explain.ts';
export type { Explanation } from './explain.ts';
export { Router } from './router.ts';
export type { EndpointService, Routed, RouterOptions } from './router.ts';
export { DEFAULT_FAILURE_ACCRUAL, FailureAccrual, NO_FAILURE_ACCRUAL } from './failure-accrual.ts';
export type { AccrualCounters, AccrualState, FailureAccrualPolicy } from './failure-accrual.ts';
export { Attempts, DEFAULT_RETRY_POLICY, MAX_RETRIES, RetryRequest } from './retries.ts';
export type { RetryPolicy } from './retries.ts';
export { Balancer, DEFAULT_APERTURE, DEFAULT_BALANCER, PeakEwma } from './balancer.ts';
export type { BalancerKind, BalancerPolicy, EndpointHealth } from './balancer.ts';
export { DEFAULT_CLIENT_PARAMS, DEFAULT_SERVICE_PARAMS, ServiceNode } from './stats.ts';
export type { ServiceParams } from './stats.ts';

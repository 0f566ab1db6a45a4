// A router's `client` block (spec/linkerd.md §5): the parts dtabd applies, read strictly, and
// the rest reported as not applied yet, for every client (`io.l5d.global`) or per prefix of the
// client id (`io.l5d.static`).

import {
  type Backoff,
  ConfigReader,
  constantBackoff,
  decorrelatedJitteredBackoff,
  DEFAULT_ACCRUAL_BACKOFF,
  DEFAULT_RETRY_BUDGET,
  type RetryBudgetConfig,
} from '../core/index.ts';
import {
  type BalancerKind,
  type BalancerPolicy,
  type ClientParams,
  DEFAULT_BALANCER,
  DEFAULT_CLIENT_PARAMS,
  DEFAULT_FAILURE_ACCRUAL,
  DEFAULT_POOL,
  type PoolParams,
  type FailureAccrualPolicy,
  NO_FAILURE_ACCRUAL,
} from '../proxy/index.ts';
import { type ParamsByName, readParamsByName } from './prefix-configs.ts';

export type ClientConfig = ClientParams;

export const DEFAULT_CLIENT: ClientConfig = DEFAULT_CLIENT_PARAMS;

/** Client keys linkerd has whose behaviour dtabd does not apply yet. */
const CLIENT_LATER = ['clientSession', 'socketOptions', 'tls', 'requestAuthorizers', 'forwardClientCert'];
const BALANCERS = ['p2c', 'ewma', 'heap', 'roundRobin', 'aperture'];
const MAX_MS = 2 ** 31 - 1;

/**
 * Reads `client` (`raw`, at key path `at`): parameters per client id, matched on the bound id
 * (`/#/io.l5d.fs/web`) for `io.l5d.static` prefixes. Throws ConfigError naming the key.
 */
export function readClient(raw: unknown, at: string, notApplied: string[]): ParamsByName<ClientConfig> {
  return readParamsByName(raw, at, 'client', DEFAULT_CLIENT, readClientParams, notApplied);
}

/** The client parameters of one object (a global block, or one static config). */
function readClientParams(c: ConfigReader, notApplied: string[]): ClientConfig {
  const failureAccrual = readAccrual(c.raw('failureAccrual'), c.keyAt('failureAccrual'));
  const requeueBudget = readBudget(c.raw('requeueBudget'), c.keyAt('requeueBudget'));
  const balancer = readBalancer(c.raw('loadBalancer'), c.keyAt('loadBalancer'), notApplied);
  const attemptTimeoutMs = c.optionalInteger('requestAttemptTimeoutMs', 1, MAX_MS);
  const pool = readPool(c.raw('hostConnectionPool'), c.keyAt('hostConnectionPool'));
  const failFast = c.optionalBoolean('failFast') ?? false;
  notApplied.push(...c.present(...CLIENT_LATER));
  return { pool, balancer, failureAccrual, requeueBudget, attemptTimeoutMs, failFast };
}

/** `hostConnectionPool`: `minSize`, `maxSize`, `idleTimeMs`, `maxWaiters`. */
function readPool(raw: unknown, at: string): PoolParams {
  if (raw === undefined || raw === null) return DEFAULT_POOL;
  const r = new ConfigReader(raw, at);
  const minSize = r.optionalInteger('minSize', 0, 100_000) ?? DEFAULT_POOL.minSize;
  const maxSize = r.optionalInteger('maxSize', 1, 100_000) ?? DEFAULT_POOL.maxSize;
  const idleTimeMs = r.optionalInteger('idleTimeMs', 1, MAX_MS) ?? DEFAULT_POOL.idleTimeMs;
  const maxWaiters = r.optionalInteger('maxWaiters', 0, 1_000_000) ?? DEFAULT_POOL.maxWaiters;
  if (minSize > maxSize) throw r.error('minSize', `${minSize} is more than maxSize ${maxSize}`);
  r.done();
  return { minSize, maxSize, idleTimeMs, maxWaiters };
}

/** `successRate`, required by both success-rate kinds: a fraction of 1. */
function requiredRate(r: ConfigReader): number {
  const rate = r.optionalNumber('successRate', 0, 1);
  if (rate === undefined) throw r.error('successRate', 'required: the success rate below which an endpoint is taken out, from 0 to 1');
  return rate;
}

function readAccrual(raw: unknown, at: string): FailureAccrualPolicy {
  if (raw === undefined || raw === null) return DEFAULT_FAILURE_ACCRUAL;
  const r = new ConfigReader(raw, at);
  const kind = r.string('kind');
  switch (kind) {
    case 'none':
      r.done();
      return NO_FAILURE_ACCRUAL;
    case 'io.l5d.consecutiveFailures': {
      const failures = r.optionalInteger('failures', 1, 1_000_000) ?? 5;
      const backoff = readBackoff(r.raw('backoff'), r.keyAt('backoff')) ?? DEFAULT_ACCRUAL_BACKOFF;
      r.done();
      return { kind, failures, backoff };
    }
    case 'io.l5d.successRate': {
      const successRate = requiredRate(r);
      const requests = r.integer('requests', 1, 1_000_000);
      const backoff = readBackoff(r.raw('backoff'), r.keyAt('backoff')) ?? DEFAULT_ACCRUAL_BACKOFF;
      r.done();
      return { kind, failures: Infinity, successRate, requests, backoff };
    }
    case 'io.l5d.successRateWindowed': {
      const successRate = requiredRate(r);
      const windowSecs = r.integer('window', 1, 24 * 60 * 60);
      const backoff = readBackoff(r.raw('backoff'), r.keyAt('backoff')) ?? DEFAULT_ACCRUAL_BACKOFF;
      r.done();
      return { kind, failures: Infinity, successRate, windowMs: windowSecs * 1000, backoff };
    }
    default:
      throw r.error(
        'kind',
        `unknown failure accrual kind ${JSON.stringify(kind)}; known: io.l5d.consecutiveFailures, io.l5d.successRate, io.l5d.successRateWindowed, none`,
      );
  }
}

/** `{kind: constant, ms}` or `{kind: jittered, minMs, maxMs}`. */
export function readBackoff(raw: unknown, at: string): Backoff | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = new ConfigReader(raw, at);
  const kind = r.string('kind');
  let backoff: Backoff;
  if (kind === 'constant') {
    backoff = constantBackoff(r.optionalInteger('ms', 0, MAX_MS) ?? 0);
  } else if (kind === 'jittered') {
    const minMs = r.integer('minMs', 0, MAX_MS);
    const maxMs = r.integer('maxMs', 0, MAX_MS);
    if (maxMs < minMs) throw r.error('maxMs', `${maxMs} is less than minMs ${minMs}`);
    backoff = decorrelatedJitteredBackoff(minMs, maxMs);
  } else {
    throw r.error('kind', `unknown backoff kind ${JSON.stringify(kind)}; known: constant, jittered`);
  }
  r.done();
  return backoff;
}

/** A retry budget block (`minRetriesPerSec`, `percentCanRetry`, `ttlSecs`). */
export function readBudget(raw: unknown, at: string): RetryBudgetConfig {
  if (raw === undefined || raw === null) return DEFAULT_RETRY_BUDGET;
  const r = new ConfigReader(raw, at);
  const minRetriesPerSec = r.optionalInteger('minRetriesPerSec', 0, 1_000_000) ?? DEFAULT_RETRY_BUDGET.minRetriesPerSec;
  const percentCanRetry = r.optionalNumber('percentCanRetry', 0, 1000) ?? DEFAULT_RETRY_BUDGET.percentCanRetry;
  const ttlSecs = r.optionalInteger('ttlSecs', 1, 60 * 60) ?? DEFAULT_RETRY_BUDGET.ttlMs / 1000;
  r.done();
  return { minRetriesPerSec, percentCanRetry, ttlMs: ttlSecs * 1000 };
}

function readBalancer(raw: unknown, at: string, notApplied: string[]): BalancerPolicy {
  if (raw === undefined || raw === null) return DEFAULT_BALANCER;
  const r = new ConfigReader(raw, at);
  const kind = r.string('kind');
  if (!BALANCERS.includes(kind)) throw r.error('kind', `unknown load balancer ${JSON.stringify(kind)}; known: ${BALANCERS.join(', ')}`);
  const decayTimeMs = r.optionalInteger('decayTimeMs', 1, MAX_MS) ?? DEFAULT_BALANCER.decayTimeMs;
  const lowLoad = r.optionalNumber('lowLoad', 0, 1_000_000);
  const highLoad = r.optionalNumber('highLoad', 0, 1_000_000);
  const minAperture = r.optionalInteger('minAperture', 1, 100_000);
  const smoothWindowMs = r.optionalInteger('smoothWindowMs', 1, MAX_MS);
  if (lowLoad !== undefined && highLoad !== undefined && lowLoad > highLoad) throw r.error('lowLoad', `${lowLoad} is more than highLoad ${highLoad}`);
  // maxEffort bounds how often Finagle's balancers pick again to find an endpoint in service;
  // dtabd's look at every endpoint when the first choices are out, so they never give up
  // earlier than it allows. It is read and checked.
  r.optionalInteger('maxEffort', 1, 1000);
  notApplied.push(...r.present('enableProbation'));
  r.done();
  return { kind: kind as BalancerKind, decayTimeMs, lowLoad, highLoad, minAperture, smoothWindowMs };
}

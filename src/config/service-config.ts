// A router's `service` block (spec/linkerd.md §5): per logical name, the response classifier,
// retries (budget and backoff) and the total timeout. `kind: io.l5d.global` (the default)
// applies to every service; per-prefix `io.l5d.static` configs come later and are reported.

import { constantBackoff, DEFAULT_RETRY_BUDGET, ConfigReader } from '../core/index.ts';
import { DEFAULT_CLASSIFIER_KIND, DEFAULT_RETRY_POLICY, RESPONSE_CLASSIFIERS, type ResponseClassifier, type RetryPolicy } from '../proxy/index.ts';
import { readBackoff, readBudget } from './client-config.ts';

export interface ServiceConfig {
  readonly classifierKind: string;
  readonly classifier: ResponseClassifier;
  readonly retries: RetryPolicy;
  /** The whole request, retries included; undefined for none. */
  readonly totalTimeoutMs: number | undefined;
}

export const DEFAULT_SERVICE: ServiceConfig = {
  classifierKind: DEFAULT_CLASSIFIER_KIND,
  classifier: RESPONSE_CLASSIFIERS[DEFAULT_CLASSIFIER_KIND]!,
  retries: DEFAULT_RETRY_POLICY,
  totalTimeoutMs: undefined,
};

const KINDS = Object.keys(RESPONSE_CLASSIFIERS);

/** Reads `service` (`raw`, at key path `at`). Throws ConfigError naming the key. */
export function readService(raw: unknown, at: string, notApplied: string[]): ServiceConfig {
  if (raw === undefined || raw === null) return DEFAULT_SERVICE;
  const s = new ConfigReader(raw, at);
  const kind = s.optionalString('kind') ?? 'io.l5d.global';
  if (kind === 'io.l5d.static') {
    s.ignore('configs');
    notApplied.push(at);
    return DEFAULT_SERVICE;
  }
  if (kind !== 'io.l5d.global') throw s.error('kind', `unknown service kind ${JSON.stringify(kind)}; known: io.l5d.global, io.l5d.static`);
  const totalTimeoutMs = s.optionalInteger('totalTimeoutMs', 1, 2 ** 31 - 1);
  let classifierKind = DEFAULT_CLASSIFIER_KIND;
  const rc = s.raw('responseClassifier');
  if (rc !== undefined) {
    const r = new ConfigReader(rc, s.keyAt('responseClassifier'));
    classifierKind = r.string('kind');
    if (!KINDS.includes(classifierKind)) throw r.error('kind', `unknown response classifier ${JSON.stringify(classifierKind)}; known: ${KINDS.join(', ')}`);
    r.done();
  }
  let retries = DEFAULT_RETRY_POLICY;
  const rr = s.raw('retries');
  if (rr !== undefined) {
    const r = new ConfigReader(rr, s.keyAt('retries'));
    const budget = r.has('budget') ? readBudget(r.raw('budget'), r.keyAt('budget')) : DEFAULT_RETRY_BUDGET;
    const backoff = readBackoff(r.raw('backoff'), r.keyAt('backoff')) ?? constantBackoff(0);
    r.done();
    retries = { budget, backoff };
  }
  s.done();
  return { classifierKind, classifier: RESPONSE_CLASSIFIERS[classifierKind]!, retries, totalTimeoutMs };
}

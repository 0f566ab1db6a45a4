// A router's `service` block (spec/linkerd.md §5): the response classifier, retries (budget and
// backoff) and the total timeout, for every logical name (`io.l5d.global`) or per prefix of it
// (`io.l5d.static`).

import { constantBackoff, DEFAULT_RETRY_BUDGET, ConfigReader } from '../core/index.ts';
import { DEFAULT_CLASSIFIER_KIND, DEFAULT_RETRY_POLICY, DEFAULT_SERVICE_PARAMS, RESPONSE_CLASSIFIERS, type ServiceParams } from '../proxy/index.ts';
import { readBackoff, readBudget } from './client-config.ts';
import { type ParamsByName, readParamsByName } from './prefix-configs.ts';

export type ServiceConfig = ServiceParams & { readonly classifierKind: string };

export const DEFAULT_SERVICE: ServiceConfig = { ...DEFAULT_SERVICE_PARAMS, classifierKind: DEFAULT_CLASSIFIER_KIND };

const KINDS = Object.keys(RESPONSE_CLASSIFIERS);

/**
 * Reads `service` (`raw`, at key path `at`): parameters per logical name (`/svc/web`), matched
 * on it for `io.l5d.static` prefixes. Throws ConfigError naming the key.
 */
export function readService(raw: unknown, at: string, notApplied: string[]): ParamsByName<ServiceConfig> {
  return readParamsByName(raw, at, 'service', DEFAULT_SERVICE, readServiceParams, notApplied);
}

function readServiceParams(s: ConfigReader): ServiceConfig {
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
  return { classifierKind, classifier: RESPONSE_CLASSIFIERS[classifierKind]!, retries, totalTimeoutMs };
}

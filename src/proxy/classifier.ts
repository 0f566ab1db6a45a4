// linkerd's HTTP response classifiers (spec/linkerd.md §5): which answers are failures, and
// which failures may be retried. A failure the upstream marked `l5d-retryable: true` (another
// dtabd or linkerd that never wrote the request on) may be retried whatever the kind.

export interface ResponseClass {
  readonly success: boolean;
  readonly retryable: boolean;
}

/** Classifies a response by the request's method and the response's status. */
export type ResponseClassifier = (method: string, status: number, retryableHeader: boolean) => ResponseClass;

const SUCCESS: ResponseClass = Object.freeze({ success: true, retryable: false });
const FAILURE: ResponseClass = Object.freeze({ success: false, retryable: false });
const RETRYABLE: ResponseClass = Object.freeze({ success: false, retryable: true });

const READ = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const IDEMPOTENT = new Set([...READ, 'PUT', 'DELETE']);

function fiveXX(retryableMethod: (method: string) => boolean): ResponseClassifier {
  return (method, status, retryableHeader) => {
    if (status < 500) return SUCCESS;
    return retryableHeader || retryableMethod(method) ? RETRYABLE : FAILURE;
  };
}

export const RESPONSE_CLASSIFIERS: Readonly<Record<string, ResponseClassifier>> = {
  'io.l5d.http.nonRetryable5XX': fiveXX(() => false),
  'io.l5d.http.retryableRead5XX': fiveXX((m) => READ.has(m)),
  'io.l5d.http.retryableIdempotent5XX': fiveXX((m) => IDEMPOTENT.has(m)),
  'io.l5d.http.retryableAll5XX': fiveXX(() => true),
  'io.l5d.http.allSuccessful': () => SUCCESS,
};

export const DEFAULT_CLASSIFIER_KIND = 'io.l5d.http.nonRetryable5XX';

/**
 * Whether a request that failed without an answer (the connection broke after the request was
 * written) may be retried: as a 5XX would be under the classifier.
 */
export function retryableWithoutAnswer(classifier: ResponseClassifier, method: string): boolean {
  return classifier(method, 503, false).retryable;
}

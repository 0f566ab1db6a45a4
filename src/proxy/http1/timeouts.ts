// A request's two timers firing: the total timeout (or the caller's deadline) cancels whatever
// is in flight and answers 503; an attempt's timeout counts as a failed attempt, which may be
// retried.

import { AttemptTimeoutError, DeadlineExceededError, TotalTimeoutError } from '../errors.ts';
import type { Http1Request } from './request.ts';
import type { Http1Server } from './server.ts';

/** The total timeout of a request passed: cancel what is in flight and answer 503. */
export function timeOut(server: Http1Server, pr: Http1Request, ms: number): void {
  pr.timer = undefined;
  if (pr.answered || pr.conn.exchange !== pr) return;
  pr.timedOut = true;
  const up = pr.upstream;
  pr.upstream = undefined;
  // Cancelled mid-exchange: the connection's state is unknown, so it is not reused.
  up?.destroy();
  // answerError ends the exchange (finished()), which lowers the endpoint's load and lets go
  // of the routing promise.
  const name = pr.dst?.path.show ?? 'unspecified';
  server.answerError(pr, ms < 0 ? new DeadlineExceededError(name) : new TotalTimeoutError(ms, name));
}

/** One attempt's timeout passed before its answer: it counts as a failure, and may be retried. */
export function attemptTimedOut(server: Http1Server, pr: Http1Request, ms: number): void {
  pr.attemptTimer = undefined;
  if (pr.answered || pr.conn.exchange !== pr) return;
  const up = pr.upstream;
  pr.upstream = undefined;
  up?.destroy();
  server.attemptFailed(pr, new AttemptTimeoutError(ms, pr.dst?.path.show ?? 'unspecified'));
}

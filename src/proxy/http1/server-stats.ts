// An HTTP/1.1 server's metrics under linkerd's names (`rt/<router>/server/<ip>/<port>/...`):
// requests by outcome and by status, latency, the requests pending and the connections open.

import { type Counter, type MetricsRegistry, RequestStats } from '../../metrics/index.ts';
import type { Http1Request } from './request.ts';

/** A server's metrics: requests by outcome and status, latency, requests pending. */
export class ServerStats {
  readonly #registry: MetricsRegistry;
  readonly scope: string;
  readonly #stats: RequestStats;
  readonly #status = new Map<number, Counter>();

  /** `id` is the server as its scope names it (`<ip>/<port>`). */
  constructor(registry: MetricsRegistry, scope: string, id: string, pending: () => number, connections: () => number) {
    this.#registry = registry;
    this.scope = scope;
    this.#stats = new RequestStats(registry, scope);
    registry.labelScope(scope, 'server', id);
    registry.gauge(`${scope}/pending`, pending);
    registry.gauge(`${scope}/connections`, connections);
  }

  record(pr: Http1Request): void {
    // linkerd's server counts a 5XX as a failure whatever the classifier says of retries.
    this.#stats.record(pr.status < 500, Date.now() - pr.startMs);
    let c = this.#status.get(pr.status);
    if (c === undefined) {
      c = this.#registry.counter(`${this.scope}/status/${pr.status}`);
      this.#status.set(pr.status, c);
      this.#status.set(-Math.floor(pr.status / 100), this.#registry.counter(`${this.scope}/status/${Math.floor(pr.status / 100)}XX`));
    }
    c.incr();
    this.#status.get(-Math.floor(pr.status / 100))!.incr();
  }
}

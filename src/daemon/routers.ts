// Building the running parts of one router from its config: the router core, its HTTP/1.1
// servers and its access log.

import type { RouterConfig, ServerConfig } from '../config/index.ts';
import type { Log } from '../core/index.ts';
import { DtabCache } from '../dtab/index.ts';
import type { MetricsRegistry } from '../metrics/index.ts';
import { AccessLog, DstDtabCache, forward, Http1Endpoint, type Http1Request, type Http1ServerOptions, type RecentRequests, Router } from '../proxy/index.ts';

/** Parsed `l5d-dtab` and `l5d-ctx-dtab` texts, shared by every router of the process. */
const PARSED_DTABS = new DtabCache(10_000);

/** One router as it runs: its core, its config and what its servers are given. */
export class RunningRouter {
  readonly config: RouterConfig;
  readonly router: Router<Http1Endpoint, Http1Request, void>;
  readonly dtabs: DstDtabCache;
  readonly accessLog: AccessLog | undefined;
  readonly #log: Log;

  readonly #metrics: MetricsRegistry;
  readonly #recent: RecentRequests | undefined;

  constructor(config: RouterConfig, log: Log, metrics: MetricsRegistry, recent?: RecentRequests) {
    this.config = config;
    this.#recent = recent;
    this.#log = log;
    this.#metrics = metrics;
    this.router = new Router({
      label: config.label,
      interpreter: config.interpreter,
      bindingTimeoutMs: config.bindingTimeoutMs,
      newEndpoint: (address, pool, meters) => new Http1Endpoint(address, pool, meters),
      call: forward,
      clientParams: config.client.resolve,
      serviceParams: config.service.resolve,
      metrics,
      log,
    });
    this.dtabs = new DstDtabCache(config.dtab, PARSED_DTABS);
    this.accessLog = config.httpAccessLog === undefined ? undefined : new AccessLog(config.httpAccessLog);
  }

  /** What a server of this router at `server` is given. */
  serverOptions(server: ServerConfig): Http1ServerOptions {
    const c = this.config;
    return {
      label: c.label,
      ip: server.ip,
      port: server.port,
      clearContext: server.clearContext,
      maxConcurrentRequests: server.maxConcurrentRequests,
      maxCallDepth: server.maxCallDepth,
      maxHeadersKB: c.maxHeadersKB,
      headersTimeoutMs: server.headersTimeoutMs,
      idleTimeoutMs: server.idleTimeoutMs,
      limits: { maxHeaderBytes: c.maxHeadersKB * 1024, maxBodyBytes: c.maxErrResponseKB * 1024 },
      identifier: c.identifier,
      dtabs: this.dtabs,
      router: this.router,
      accessLog: this.accessLog,
      recent: this.#recent,
      metrics: this.#metrics,
      log: this.#log,
    };
  }

  /**
   * Stops the router. Its metrics go with it, but for the scopes `successor` (the router of the
   * same label that took over, if any) uses too.
   */
  async close(successor?: RunningRouter): Promise<void> {
    const mine = this.router.scopes();
    this.router.close();
    if (successor === undefined) this.#metrics.removeScope(`rt/${this.config.label}`);
    else {
      const theirs = new Set(successor.router.scopes());
      for (const s of mine) if (!theirs.has(s)) this.#metrics.removeScope(s);
    }
    await this.accessLog?.close();
  }
}

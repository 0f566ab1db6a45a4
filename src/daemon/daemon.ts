// The daemon: every router of a linkerd config serving on its servers, the admin server, and
// the lifecycle around them. A reload builds the new config whole before touching the running
// one, so an invalid file changes nothing; routers whose config (and namers) did not change
// keep running untouched, and a listen address that stays keeps its socket, so no connection
// is refused while the new router takes over.

import type { ConfigFile, LinkerdConfig } from '../config/index.ts';
import { loadLinkerdConfig, type NamingOptions } from '../config/index.ts';
import type { Log } from '../core/index.ts';
import { Http1Server } from '../proxy/index.ts';
import { AdminServer } from '../admin/index.ts';
import { RunningRouter } from './routers.ts';
import { MetricsRegistry, processMetrics } from '../metrics/index.ts';
import { RecentRequests } from '../proxy/index.ts';
import { explain } from './explain.ts';
import { boundNames, clientState, delegate, followDelegation, namerPrefixes, namerState, namerStats, routerInfos, type Running } from './inspect.ts';
import { VERSION } from './version.ts';

export interface DaemonOptions {
  readonly log: Log;
  readonly naming?: NamingOptions;
  /** Called once a shutdown has drained and closed everything. */
  readonly onStopped?: () => void;
  /** The log's level, read and changed at run time (`/logging.json`). */
  readonly logLevel?: { get(): string; set(level: string): boolean };
}

export interface ReloadReport {
  readonly started: string[];
  readonly replaced: string[];
  readonly kept: string[];
  readonly stopped: string[];
}

export class Daemon {
  readonly #log: Log;
  readonly #options: DaemonOptions;
  #config: LinkerdConfig;
  /** The config as read (`/config.json`). */
  #raw: unknown;
  #stopProcessMetrics: () => void = () => {};
  #routers = new Map<string, RunningRouter>();
  /** Servers by `ip:port`. */
  #servers = new Map<string, Http1Server>();
  readonly admin: AdminServer;
  /** Every router's metrics, under linkerd's names. */
  readonly metrics = new MetricsRegistry();
  #stopping: Promise<void> | undefined;
  /** linkerd's `io.l5d.recentRequests` sample, shared by every router's servers. */
  readonly #recent = new RecentRequests();

  private constructor(config: LinkerdConfig, options: DaemonOptions) {
    this.#config = config;
    this.#options = options;
    this.#log = options.log;
    const run = (): Running => ({ config: this.#config, routers: this.#routers, servers: this.#servers });
    this.admin = new AdminServer({
      shutdown: (graceMs) => void this.shutdown(graceMs),
      metrics: this.metrics,
      version: VERSION,
      clientState: () => clientState(run()),
      config: () => this.#raw,
      delegate: (namespace, dtab, path) => delegate(run(), namespace, dtab, path),
      watchDelegation: (namespace, dtab, path, onChange) => followDelegation(run(), namespace, dtab, path, onChange),
      explain: (query) => explain(run(), query),
      boundNames: () => boundNames(run()),
      routers: () => routerInfos(run()),
      namerPrefixes: () => namerPrefixes(run()),
      namerState: (prefix) => namerState(run(), prefix),
      recentRequests: () =>
        this.#recent.enabled ? { sampleRate: this.#recent.sampleRate, capacity: this.#recent.capacity, requests: this.#recent.list() } : undefined,
      prometheus: () => this.#config.telemetry.prometheus,
      logLevel: options.logLevel,
      security: config.admin.security,
      exportThreadMinMetrics: config.admin.exportThreadMinMetrics,
      warn: (message) => this.#log.warn(message),
    });
    this.#registerNamerStats();
  }

  /** `namer/<prefix>/<count>` for each configured namer that counts, read from the namers of the day. */
  #registerNamerStats(): void {
    for (const [prefix, stats] of namerStats({ config: this.#config, routers: this.#routers, servers: this.#servers })) {
      for (const key of Object.keys(stats)) {
        this.metrics.gauge(`namer/${prefix}/${key}`, () => {
          for (const n of this.#config.naming.namers) if (n.prefix.show === `/${prefix}`) return n.namer.stats?.()[key] ?? 0;
          return 0;
        });
      }
    }
  }

  /** Reads the config, then starts every router and the admin server; nothing runs on failure. */
  static async start(file: ConfigFile, options: DaemonOptions): Promise<Daemon> {
    const config = loadLinkerdConfig(file, { log: options.log, ...options.naming });
    const d = new Daemon(config, options);
    d.#raw = file.root;
    d.#stopProcessMetrics = processMetrics(d.metrics);
    try {
      await d.admin.listen(config.admin.port, config.admin.ip);
      await d.#apply(config);
    } catch (e) {
      await d.#closeAll(0);
      throw e;
    }
    for (const key of config.notApplied) options.log.warn({ key }, 'linkerd setting read but not applied yet');
    return d;
  }

  get config(): LinkerdConfig {
    return this.#config;
  }

  /** The running HTTP servers by `ip:port` (their bound ports when configured as 0). */
  servers(): Map<string, Http1Server> {
    return this.#servers;
  }

  routers(): Map<string, RunningRouter> {
    return this.#routers;
  }

  /**
   * Starts what `config` has that is not running, re-points kept listen addresses and stops
   * what it no longer has. New listeners are opened first: when one fails, the running
   * config stays as it was.
   */
  async #apply(config: LinkerdConfig): Promise<ReloadReport> {
    const report: ReloadReport = { started: [], replaced: [], kept: [], stopped: [] };
    const nextRouters = new Map<string, RunningRouter>();
    const fresh: RunningRouter[] = [];
    for (const rc of config.routers) {
      const old = this.#routers.get(rc.label);
      if (old !== undefined && old.config.fingerprint === rc.fingerprint) {
        nextRouters.set(rc.label, old);
        report.kept.push(rc.label);
        continue;
      }
      const r = new RunningRouter(rc, this.#log, this.metrics, this.#recent);
      fresh.push(r);
      nextRouters.set(rc.label, r);
      (old === undefined ? report.started : report.replaced).push(rc.label);
    }
    // Listen on the addresses that are new; re-point the others only once all of these listen.
    const opened: [string, Http1Server][] = [];
    const repoint: [Http1Server, RunningRouter, LinkerdConfig['routers'][number]['servers'][number]][] = [];
    try {
      for (const rc of config.routers) {
        const r = nextRouters.get(rc.label)!;
        for (const sc of rc.servers) {
          const key = `${sc.ip}:${sc.port}`;
          const running = sc.port === 0 ? undefined : this.#servers.get(key);
          if (running !== undefined) {
            repoint.push([running, r, sc]);
            continue;
          }
          const server = new Http1Server(r.serverOptions(sc));
          await server.listen();
          opened.push([sc.port === 0 ? `${sc.ip}:${server.address.port}` : key, server]);
        }
      }
    } catch (e) {
      for (const [key, s] of opened) await this.#closeServer(key, s, 0);
      // The running router of the same label, if any, keeps its metrics.
      for (const r of fresh) await r.close(this.#routers.get(r.config.label));
      throw e;
    }
    const kept = new Set(repoint.map(([s]) => s));
    const next = new Map<string, Http1Server>();
    for (const [server, r, sc] of repoint) {
      server.reconfigure(r.serverOptions(sc));
      next.set(`${sc.ip}:${sc.port}`, server);
    }
    for (const [key, s] of opened) next.set(key, s);
    const grace = config.admin.shutdownGraceMs;
    const closing: Promise<void>[] = [];
    for (const [key, s] of this.#servers) {
      if (!kept.has(s)) {
        this.#log.info({ listen: key }, 'server stopped');
        closing.push(this.#closeServer(key, s, grace));
      }
    }
    for (const [label, r] of this.#routers) {
      if (nextRouters.get(label) !== r) {
        if (!nextRouters.has(label)) report.stopped.push(label);
        // Requests in flight on the old router finish on it: it closes after the grace period,
        // leaving the metrics of whichever router has its label by then.
        const t = setTimeout(() => void r.close(this.#routers.get(label)), grace);
        t.unref();
      }
    }
    this.#servers = next;
    this.#routers = nextRouters;
    this.#config = config;
    const rr = config.telemetry.recentRequests;
    this.#recent.configure(rr?.sampleRate ?? 0, rr?.capacity ?? 0);
    this.#registerNamerStats();
    for (const r of fresh) r.router.exportCacheMetrics();
    for (const [key, s] of opened) this.#log.info({ router: s.options.label, listen: key }, 'serving');
    void Promise.all(closing);
    return report;
  }

  /**
   * Closes a server no config has any more (draining for up to `graceMs`), then drops its
   * metrics, unless a reload has meanwhile put another server of the same router on its
   * address: that one has the same metric names, and keeps them.
   */
  async #closeServer(key: string, s: Http1Server, graceMs: number): Promise<void> {
    const scope = s.statsScope;
    const label = s.options.label;
    await s.close(graceMs);
    const now = this.#servers.get(key);
    if (scope !== undefined && (now === undefined || now === s || now.options.label !== label)) this.metrics.removeScope(scope);
  }

  /** Reloads from `file`. Throws (and changes nothing) when the file is invalid. */
  async reload(file: ConfigFile): Promise<ReloadReport> {
    if (this.#stopping !== undefined) throw new Error('shutting down');
    const config = loadLinkerdConfig(file, { log: this.#log, ...this.#options.naming });
    this.#raw = file.root;
    const a = config.admin;
    const b = this.#config.admin;
    if (a.ip !== b.ip || a.port !== b.port) this.#log.warn({}, 'admin address changes take effect at the next start');
    return this.#apply(config);
  }

  /** Drains: stops accepting, lets requests in flight finish for up to the grace period, closes. */
  shutdown(graceMs = this.#config.admin.shutdownGraceMs): Promise<void> {
    this.#stopping ??= this.#closeAll(graceMs).then(() => this.#options.onStopped?.());
    return this.#stopping;
  }

  async #closeAll(graceMs: number): Promise<void> {
    this.#log.info({ graceMs }, 'draining');
    await Promise.all([...this.#servers].map(([key, s]) => this.#closeServer(key, s, graceMs)));
    await Promise.all([...this.#routers.values()].map((r) => r.close()));
    await this.admin.close();
    this.#stopProcessMetrics();
    this.metrics.close();
    this.#servers.clear();
    this.#routers.clear();
  }
}

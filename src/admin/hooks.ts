// What the admin server reads of the daemon: callbacks the daemon gives it, so the admin side
// depends on no running part and nothing depends on it.

import type { Closable } from '../core/index.ts';
import type { MetricsRegistry } from '../metrics/index.ts';
import type { RecentRequest } from '../proxy/index.ts';
import type { AdminSecurity } from './security.ts';

/** An answer of the daemon: a status and a JSON value, or a message for a plain-text body. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** One router as the UI pages see it. */
export interface RouterInfo {
  readonly label: string;
  readonly protocol: string;
  /** The router's dtab, as text. */
  readonly dtab: string;
  /** Its servers, `<ip>/<port>` as their metrics scopes name them. */
  readonly servers: string[];
  readonly dstPrefix: string;
  /** Logical names it has routed recently (for suggestions). */
  readonly names: string[];
  /** linkerd's default retry budget share, in percent (the dashboard's retry bar). */
  readonly retryBudgetPercent: number;
}

export interface AdminHooks {
  /** Starts a graceful shutdown (drain within `graceMs`, or the configured grace, then exit). */
  shutdown(graceMs?: number): void;
  /** The metrics tree (`/admin/metrics.json`, the Prometheus text, the dashboard). */
  readonly metrics: MetricsRegistry;
  readonly version: string;
  /** Every client of every router: its state and addresses (`/client_state.json`). */
  clientState(): Record<string, { state: string; addresses: string[] }>;
  /** The config as read, re-served as JSON (`/config.json`). */
  config(): unknown;
  /** Every concrete name the namers can list (`/bound-names.json`). */
  boundNames(): Promise<string[]>;
  /** A delegation as `/delegator.json` answers it: a JSON tree, or a status and message. */
  delegate(namespace: string | undefined, dtab: string, path: string): Promise<Answer>;
  /** The same, followed live: `onChange` is told at once and again on each change. */
  watchDelegation(namespace: string | undefined, dtab: string, path: string, onChange: (a: Answer) => void): Closable;
  /** Where a described request would go (`/explain.json`). */
  explain(query: unknown): Promise<Answer>;
  routers(): RouterInfo[];
  /** The prefixes of configured namers, `#/io.l5d.fs` (without the leading slash). */
  namerPrefixes(): string[];
  /** A namer's state (`/namer_state/<prefix>.json`); undefined when no such namer keeps one. */
  namerState(prefix: string): unknown;
  /** linkerd's `io.l5d.recentRequests` sample, newest first; undefined when not configured. */
  recentRequests(): { sampleRate: number; capacity: number; requests: RecentRequest[] } | undefined;
  /** Where the Prometheus text is served and the prefix of its names (`io.l5d.prometheus`). */
  prometheus(): { path: string; prefix: string };
  /** The log's level (`/logging.json`), when it can be changed. */
  readonly logLevel?: { get(): string; set(level: string): boolean } | undefined;
  /** Which paths answer whom (`admin.security`). */
  readonly security?: AdminSecurity;
  /** Metrics from which scrapes are written in a thread of their own (THREAD_MIN_METRICS unless given). */
  readonly exportThreadMinMetrics?: number | undefined;
  /** Where the admin server reports trouble that does not stop it. */
  warn?(message: string): void;
}

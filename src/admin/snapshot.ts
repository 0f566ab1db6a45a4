// What the dashboard is pushed each second: per router, each server, service and client with
// its counters (the page turns their differences into rates) and its latency over the last
// minute, plus the process's facts. Read from the metrics tree, once per push whatever the
// number of pages open.

import type { MetricsRegistry } from '../metrics/index.ts';

type Stats = Record<string, number | Record<string, number>>;

export interface DashboardSnapshot {
  readonly type: 'metrics';
  readonly t: number;
  readonly process: Record<string, number | string>;
  readonly routers: Record<string, { retryBudgetPercent: number; servers: Record<string, Stats>; services: Record<string, Stats>; clients: Record<string, Stats> }>;
}

/** Each kind's numbers: [metric name under the scope, key in the snapshot]. */
const COMMON: readonly [string, string][] = [
  ['requests', 'requests'],
  ['success', 'success'],
  ['failures', 'failures'],
  ['pending', 'pending'],
];
const BY_KIND: Record<string, readonly [string, string][]> = {
  server: [...COMMON, ['connections', 'connections']],
  service: [...COMMON, ['retries/total', 'retries'], ['retries/budget_exhausted', 'budgetExhausted']],
  client: [...COMMON, ['retries/requeues', 'requeues'], ['loadbalancer/size', 'lbSize'], ['loadbalancer/available', 'lbAvailable']],
};
const GROUP: Record<string, 'servers' | 'services' | 'clients'> = { server: 'servers', service: 'services', client: 'clients' };

function value(registry: MetricsRegistry, name: string): number | undefined {
  const m = registry.get(name);
  if (m === undefined) return undefined;
  if (m.kind === 'counter') return m.metric.value;
  if (m.kind === 'gauge') return m.read();
  return undefined;
}

export function dashboardSnapshot(registry: MetricsRegistry, version: string, budgets: ReadonlyMap<string, number>): DashboardSnapshot {
  const routers: DashboardSnapshot['routers'] = {};
  for (const [label, percent] of budgets) routers[label] = { retryBudgetPercent: percent, servers: {}, services: {}, clients: {} };
  for (const [scope, { kind, id }] of registry.scopes()) {
    const group = GROUP[kind];
    if (group === undefined || !scope.startsWith('rt/')) continue;
    const label = scope.slice(3, scope.indexOf('/', 3));
    const router = routers[label];
    if (router === undefined) continue;
    const stats: Stats = {};
    for (const [name, key] of BY_KIND[kind]!) {
      const v = value(registry, `${scope}/${name}`);
      if (v !== undefined) stats[key] = v;
    }
    const h = registry.get(`${scope}/request_latency_ms`);
    if (h?.kind === 'histogram') {
      const s = h.metric.snapshot();
      stats['latency'] = { p50: s.p50, p95: s.p95, p99: s.p99, p9990: s.p9990, max: s.max };
    }
    router[group][id] = stats;
  }
  const num = (name: string): number => value(registry, name) ?? 0;
  return {
    type: 'metrics',
    t: Date.now(),
    process: {
      version,
      uptimeMs: num('process/uptime_ms'),
      rssBytes: num('process/memory/rss_bytes'),
      heapUsedBytes: num('process/memory/heap_used_bytes'),
      eventLoopP99Ms: num('process/event_loop/delay_p99_ms'),
      gcMs: num('process/gc/msec'),
    },
    routers,
  };
}

// What the dashboard is pushed each second: per router, each server, service and client with
// its counters (the page turns their differences into rates) and its latency over the last
// minute, plus the process's facts. Read from the metrics tree, once per push whatever the
// number of pages open.

import type { Metric, MetricsRegistry } from '../metrics/index.ts';

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

function read(m: Metric | undefined): number | undefined {
  if (m === undefined) return undefined;
  if (m.kind === 'counter') return m.metric.value;
  if (m.kind === 'gauge') return m.read();
  return undefined;
}

/** One server, service or client: where its numbers go and the metrics they come from. */
interface Row {
  readonly label: string;
  readonly group: 'servers' | 'services' | 'clients';
  readonly id: string;
  readonly handles: [string, Metric][];
  readonly latency: Metric | undefined;
}

/** The rows of a registry, found again only when its names have changed. */
const rowsOf = new WeakMap<MetricsRegistry, { version: number; rows: Row[] }>();

function rows(registry: MetricsRegistry): Row[] {
  const hit = rowsOf.get(registry);
  if (hit !== undefined && hit.version === registry.version) return hit.rows;
  const out: Row[] = [];
  for (const [scope, { kind, id }] of registry.scopes()) {
    const group = GROUP[kind];
    if (group === undefined || !scope.startsWith('rt/')) continue;
    // A router's own servers, services and clients; not the services inside a client.
    if (registry.labelled(`${scope}/requests`).scopes.length !== 1) continue;
    const handles: [string, Metric][] = [];
    for (const [name, key] of BY_KIND[kind]!) {
      const m = registry.get(`${scope}/${name}`);
      if (m !== undefined) handles.push([key, m]);
    }
    out.push({ label: scope.slice(3, scope.indexOf('/', 3)), group, id, handles, latency: registry.get(`${scope}/request_latency_ms`) });
  }
  rowsOf.set(registry, { version: registry.version, rows: out });
  return out;
}

export function dashboardSnapshot(registry: MetricsRegistry, version: string, budgets: ReadonlyMap<string, number>): DashboardSnapshot {
  // Keyed by ids, which may be `__proto__`: objects without a prototype.
  const routers: DashboardSnapshot['routers'] = Object.create(null);
  for (const [label, percent] of budgets) routers[label] = { retryBudgetPercent: percent, servers: Object.create(null), services: Object.create(null), clients: Object.create(null) };
  for (const row of rows(registry)) {
    const router = routers[row.label];
    if (router === undefined) continue;
    const stats: Stats = {};
    for (const [key, m] of row.handles) stats[key] = read(m) ?? 0;
    const h = row.latency;
    if (h?.kind === 'histogram') {
      const s = h.metric.snapshot();
      stats['latency'] = { p50: s.p50, p95: s.p95, p99: s.p99, p9990: s.p9990, max: s.max };
    }
    router[row.group][row.id] = stats;
  }
  const num = (name: string): number => read(registry.get(name)) ?? 0;
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

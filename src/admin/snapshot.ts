// What the dashboard is pushed each second: per router, each server, service and client with
// its counters (the page turns their differences into rates) and its latency over the last
// minute, plus the process's facts. Read from the metrics tree, once per push whatever the
// number of pages open.
//
// The text is written by hand rather than built as an object, so it has no type; its shape is
//   {"type":"metrics","t":<ms since the epoch>,"process":{version,uptimeMs,rssBytes,...},
//    "routers":{"<label>":{"retryBudgetPercent":n,"servers":{...},"services":{...},"clients":{...}}}}
// where each server, service or client is `"<id>":{<key>:n,...,"latency":{p50,p95,p99}}`.

import { inSlices } from '../metrics/json.ts';
import { type Metric, type MetricsRegistry, SNAP } from '../metrics/index.ts';

type Stats = Record<string, number | Record<string, number>>;

/** Each kind's numbers: [metric name under the scope, key in the snapshot]. */
const COMMON: readonly [string, string][] = [
  ['requests', 'requests'],
  ['success', 'success'],
  ['failures', 'failures'],
  ['pending', 'pending'],
];
const BY_KIND: Record<string, readonly [string, string][]> = {
  server: [...COMMON, ['connections', 'connections']],
  service: [...COMMON, ['retries/total', 'retries']],
  client: [...COMMON, ['retries/requeues', 'requeues'], ['loadbalancer/size', 'lbSize'], ['loadbalancer/available', 'lbAvailable']],
};
/** Counters left out of a row when 0. */
const ZERO_OMITTED = new Set(['failures', 'retries', 'requeues']);
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

/** One row's numbers as JSON: `"<id>":{...}`. */
function rowJson(row: Row): string {
  // Failure and retry counts that are 0 are left out (a page reads a missing one as 0): with
  // hundreds of clients most are 0, and each page gets every row each second. Gauges stay,
  // so that 0 endpoints available shows as such.
  const stats: Stats = {};
  for (const [key, m] of row.handles) {
    const v = read(m) ?? 0;
    if (v !== 0 || !ZERO_OMITTED.has(key)) stats[key] = v;
  }
  const h = row.latency;
  if (h?.kind === 'histogram') {
    const s = h.metric.snapshot(SNAP);
    if (s.count > 0) stats['latency'] = { p50: s.p50, p95: s.p95, p99: s.p99 };
  }
  return `${JSON.stringify(row.id)}:${JSON.stringify(stats)}`;
}

/** Rows written between two turns of the event loop: a few tenths of a millisecond. */
const ROW_SLICE = 250;

/**
 * The snapshot as JSON text (its shape is described at the top of this file), written a slice
 * of rows at a time with the event loop let go in between, so a push to many pages of a large
 * tree holds no request up for long.
 */
export async function dashboardSnapshot(registry: MetricsRegistry, version: string, budgets: ReadonlyMap<string, number>): Promise<string> {
  const parts = new Map<string, Record<'servers' | 'services' | 'clients', string[]>>();
  for (const label of budgets.keys()) parts.set(label, { servers: [], services: [], clients: [] });
  const all = rows(registry);
  await inSlices(
    all,
    (from, to) => {
      for (let i = from; i < to; i++) {
        const row = all[i]!;
        parts.get(row.label)?.[row.group].push(rowJson(row));
      }
    },
    ROW_SLICE,
  );
  const num = (name: string): number => read(registry.get(name)) ?? 0;
  const process = {
    version,
    uptimeMs: num('process/uptime_ms'),
    rssBytes: num('process/memory/rss_bytes'),
    heapUsedBytes: num('process/memory/heap_used_bytes'),
    eventLoopP99Ms: num('process/event_loop/delay_p99_ms'),
    gcMs: num('process/gc/msec'),
  };
  const routers = [...parts].map(
    ([label, g]) =>
      `${JSON.stringify(label)}:{"retryBudgetPercent":${budgets.get(label)},"servers":{${g.servers.join(',')}},"services":{${g.services.join(',')}},"clients":{${g.clients.join(',')}}}`,
  );
  return `{"type":"metrics","t":${Date.now()},"process":${JSON.stringify(process)},"routers":{${routers.join(',')}}}`;
}

// What writing a scrape costs the export thread: ms per `/admin/metrics.json` and per
// Prometheus text, for a tree shaped as the daemon's with 1,000 clients and 1,000 services
// (about 26,000 metrics, 65,000 values), read by a copy over the same shared memory as the
// thread reads it. Two cases: an idle tree (nothing recorded since the last scrape), and a
// busy one (every client and service recorded between scrapes, as under load spread over
// every name).
//
//   npm run bench:export
//   npm run bench:export -- --src <dir>/src       another checkout's, side by side
//   npm run bench:export -- --names 2000

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({
  options: { src: { type: 'string', default: new URL('../src', import.meta.url).pathname }, names: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '30' } },
});
const src = resolve(flags.src);
const load = async <T>(p: string) => (await import(pathToFileURL(`${src}/metrics/${p}`).href)) as T;
const { MetricsRegistry, HistogramWindow, RequestStats } = await load<typeof import('../src/metrics/metrics.ts')>('metrics.ts');
const { applyChanges } = await load<typeof import('../src/metrics/changes.ts')>('changes.ts');
const { writeFlatJson } = await load<typeof import('../src/metrics/json.ts')>('json.ts');
const { writePrometheus } = await load<typeof import('../src/metrics/prometheus.ts')>('prometheus.ts');
const { releaseChunk } = await load<typeof import('../src/metrics/bytes.ts')>('bytes.ts');

const NAMES = Number(flags.names);
const ROUNDS = Number(flags.rounds);

const window = new HistogramWindow(60_000, 6, false);
const registry = new MetricsRegistry({ window });
const copy = new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false, window.memory), copy: true, maxMetrics: Number.POSITIVE_INFINITY });
registry.follow((changes) => applyChanges(copy, changes));

type Busy = () => void;
const busy: Busy[] = [];
let tick = 0;
for (let i = 0; i < NAMES; i++) {
  const client = `rt/http/client/#/io.l5d.fs/s${i}`;
  registry.labelScope(client, 'client', `#/io.l5d.fs/s${i}`);
  const cs = new RequestStats(registry, client);
  for (const n of ['failure_accrual/probes', 'failure_accrual/removals', 'failure_accrual/revivals', 'retries/requeues']) registry.counter(`${client}/${n}`);
  for (const n of ['loadbalancer/available', 'loadbalancer/load', 'loadbalancer/size', 'pool_size', 'pool_waiters']) registry.gauge(`${client}/${n}`, () => 1);
  const inner = `${client}/service/svc/s${i}`;
  registry.labelScope(inner, 'service', `svc/s${i}`);
  const css = new RequestStats(registry, inner);
  const service = `rt/http/service/svc/s${i}`;
  registry.labelScope(service, 'service', `svc/s${i}`);
  const ss = new RequestStats(registry, service);
  const retries = registry.histogram(`${service}/retries/per_request`);
  for (const n of ['retries/budget_exhausted', 'retries/total']) registry.counter(`${service}/${n}`);
  registry.gauge(`${service}/retries/budget`, () => 100);
  busy.push(() => {
    const ms = 0.2 + ((tick * 7919 + i) % 1000) / 997;
    cs.record(true, ms), css.record(true, ms), ss.record(true, ms), retries.add(0);
  });
}

const sink = (chunk: Buffer) => releaseChunk(chunk);
function scrape(format: 'json' | 'prom'): number {
  registry.handOn();
  // The gauges as the main thread publishes them before each export.
  void registry.publishGauges(Number.POSITIVE_INFINITY, async () => {});
  const t = performance.now();
  if (format === 'json') writeFlatJson(copy, undefined, sink);
  else writePrometheus(copy, '', sink);
  return performance.now() - t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

for (const b of busy) b();
console.log(`export from ${src}, Node ${process.version}, ${NAMES} clients and services, ${copy.size} metrics`);
console.log('| tree | metrics.json ms (median) | prometheus ms (median) |\n| --- | --- | --- |');
for (const tree of ['idle', 'busy'] as const) {
  const times: Record<'json' | 'prom', number[]> = { json: [], prom: [] };
  for (let r = 0; r < ROUNDS; r++) {
    tick++;
    if (tree === 'busy') for (const b of busy) b();
    times.json.push(scrape('json'));
    times.prom.push(scrape('prom'));
  }
  console.log(`| ${tree} | ${median(times.json).toFixed(2)} | ${median(times.prom).toFixed(2)} |`);
}
registry.close();

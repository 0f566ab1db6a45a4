// What writing a scrape costs the export thread: ms per `/admin/metrics.json` and per
// Prometheus text, for a tree shaped as the daemon's with 1,000 clients and 1,000 services
// (about 22,000 metrics), read by a copy over the same shared memory as the thread reads it.
// Two cases: an idle tree (nothing recorded since the last scrape), and a busy one (every
// client and service recorded between scrapes, as under load spread over every name).
//
// With --against, another checkout's src/metrics is measured in the same process, the two
// taking turns scrape by scrape, so that both see the same machine.
//
//   npm run bench:export
//   npm run bench:export -- --against <dir>/src     a worktree of an older commit, side by side
//   npm run bench:export -- --names 2000 --rounds 60

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './support/measure.ts';

const { values: flags } = parseArgs({
  options: {
    src: { type: 'string', default: new URL('../src', import.meta.url).pathname },
    against: { type: 'string' },
    names: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '40' },
  },
});
const NAMES = Number(flags.names);
const ROUNDS = Number(flags.rounds);

type Format = 'json' | 'prom';

interface Subject {
  readonly src: string;
  readonly metrics: number;
  /** Records one request on every name. */
  busy(): void;
  scrape(format: Format): number;
}

/** A registry of `src`, followed by a copy as the export thread keeps one, with the daemon's tree. */
async function subject(dir: string): Promise<Subject> {
  const src = resolve(dir);
  const load = async <T>(p: string) => (await import(pathToFileURL(`${src}/metrics/${p}`).href)) as T;
  const { MetricsRegistry, HistogramWindow, RequestStats } = await load<typeof import('../src/metrics/metrics.ts')>('metrics.ts');
  const { applyChanges } = await load<typeof import('../src/metrics/changes.ts')>('changes.ts');
  const { writeFlatJson } = await load<typeof import('../src/metrics/json.ts')>('json.ts');
  const { writePrometheus } = await load<typeof import('../src/metrics/prometheus.ts')>('prometheus.ts');
  const { releaseChunk } = await load<typeof import('../src/metrics/bytes.ts')>('bytes.ts');

  const window = new HistogramWindow(60_000, 6, false);
  const registry = new MetricsRegistry({ window });
  const copy = new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false, window.memory), copy: true, maxMetrics: Number.POSITIVE_INFINITY });
  registry.follow((changes) => applyChanges(copy, changes));

  const record: (() => void)[] = [];
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
    record.push(() => {
      // Latencies of a fraction of a ms to a few ms, with fractions, as a proxy records them.
      const ms = 0.2 + ((tick * 7919 + i * 104_729) % 3000) / 997;
      cs.record(true, ms), css.record(true, ms), ss.record(true, ms), retries.add(0);
    });
  }
  for (const r of record) r();
  const sink = (chunk: Buffer) => releaseChunk(chunk);
  return {
    src,
    metrics: copy.size,
    busy: () => {
      tick++;
      for (const r of record) r();
    },
    scrape: (format) => {
      registry.handOn();
      // The gauges as the main thread publishes them before each export.
      void registry.publishGauges(Number.POSITIVE_INFINITY, async () => {});
      const t = performance.now();
      if (format === 'json') writeFlatJson(copy, undefined, sink);
      else writePrometheus(copy, '', sink);
      return performance.now() - t;
    },
  };
}

const subjects = [await subject(flags.src)];
if (flags.against !== undefined) subjects.push(await subject(flags.against));
console.log(`Node ${process.version}, ${NAMES} clients and services, ${subjects[0]!.metrics} metrics; median of ${ROUNDS} scrapes each, taking turns`);
console.log('| src/metrics of | tree | metrics.json ms | prometheus ms |\n| --- | --- | --- | --- |');
for (const tree of ['idle', 'busy'] as const) {
  const times = subjects.map(() => ({ json: [] as number[], prom: [] as number[] }));
  for (let r = 0; r < ROUNDS; r++) {
    subjects.forEach((s, k) => {
      if (tree === 'busy') s.busy();
      times[k]!.json.push(s.scrape('json'));
      times[k]!.prom.push(s.scrape('prom'));
    });
  }
  subjects.forEach((s, k) => console.log(`| ${s.src} | ${tree} | ${median(times[k]!.json).toFixed(2)} | ${median(times[k]!.prom).toFixed(2)} |`));
}

// What recording a metric costs on the request path: ns per counter increment and per histogram
// value, over 2,000 handles of a registry taken in turn (as a busy proxy's clients and services
// are), the last of four rounds.
//
//   npm run bench:metrics                          this checkout's src/metrics
//   npm run bench:metrics -- --src <dir>/src       another checkout's (a worktree of an older
//                                                  commit), measured the same way side by side

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({ options: { src: { type: 'string', default: new URL('../src', import.meta.url).pathname } } });
const src = resolve(flags.src);
const { MetricsRegistry, HistogramWindow } = (await import(pathToFileURL(`${src}/metrics/metrics.ts`).href)) as typeof import('../src/metrics/metrics.ts');

const HANDLES = 2000;
const ROUNDS = 4;

function nsPer(iterations: number, run: (i: number) => void): number {
  let ns = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) run(i);
    ns = Number(process.hrtime.bigint() - t) / iterations;
  }
  return ns;
}

const registry = new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false) });
const counters = Array.from({ length: HANDLES }, (_, i) => registry.counter(`c/${i}`));
const histograms = Array.from({ length: HANDLES }, (_, i) => registry.histogram(`h/${i}`));
// Latencies of a few ms, with fractions, as a proxy records them.
const values = Float64Array.from({ length: 4096 }, (_, i) => ((i * 7919) % 20_000) / 100);

const incr = nsPer(50_000_000, (i) => counters[i % HANDLES]!.incr());
const add = nsPer(20_000_000, (i) => histograms[i % HANDLES]!.add(values[i & 4095]!));
console.log(`metrics from ${src}, Node ${process.version}`);
console.log(`| counter incr ns | histogram add ns |\n| --- | --- |\n| ${incr.toFixed(1)} | ${add.toFixed(1)} |`);
registry.close();

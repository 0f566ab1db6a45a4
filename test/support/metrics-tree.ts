// A metrics tree of `n` clients for the export tests: request stats with a few records, a
// label and a gauge each, under the names an http router gives its clients.

import { HistogramWindow, MetricsRegistry, RequestStats } from '../../src/metrics/index.ts';

export function clientTree(n: number): MetricsRegistry {
  const r = new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false) });
  for (let i = 0; i < n; i++) {
    const scope = `rt/http/client/#/io.l5d.fs/s${i}`;
    r.labelScope(scope, 'client', `#/io.l5d.fs/s${i}`);
    const s = new RequestStats(r, scope);
    for (let k = 0; k < i % 5; k++) s.record(k % 2 === 0, i + k);
    r.gauge(`${scope}/loadbalancer/size`, () => i);
  }
  return r;
}

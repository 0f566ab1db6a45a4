// Histograms over a sliding minute, and the registry's bound on names.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Histogram, HistogramWindow, MetricsRegistry, prometheusText } from '../../src/metrics/index.ts';

describe('sliding-window histograms', () => {
  test('a value counts at once and leaves the window a minute later, slice by slice', () => {
    const w = new HistogramWindow(60_000, 6, false);
    const h = new Histogram(w);
    h.add(5);
    assert.equal(h.snapshot().count, 1);
    w.advance(3);
    h.add(50);
    h.add(70);
    let s = h.snapshot();
    assert.deepEqual([s.count, s.min, s.max, s.sum], [3, 5, 70, 125]);
    // Six slices on, the first value's slice is gone; the later two stay.
    w.advance(3);
    s = h.snapshot();
    assert.deepEqual([s.count, s.min, s.max, s.sum], [2, 50, 70, 120]);
    w.advance(3);
    assert.equal(h.snapshot().count, 0);
    assert.equal(h.snapshot().p99, 0);
  });

  test('a histogram unread for longer than the window starts empty', () => {
    const w = new HistogramWindow(60_000, 6, false);
    const h = new Histogram(w);
    for (let i = 0; i < 100; i++) h.add(i);
    w.advance(1000);
    h.add(7);
    const s = h.snapshot();
    assert.deepEqual([s.count, s.min, s.max, s.p50, s.p9999], [1, 7, 7, 7, 7]);
  });

  test('percentiles over the slices together, within a tenth of the value', () => {
    const w = new HistogramWindow(60_000, 6, false);
    const h = new Histogram(w);
    for (let i = 1; i <= 1000; i++) {
      h.add(i);
      if (i % 200 === 0) w.advance();
    }
    const s = h.snapshot();
    assert.equal(s.count, 1000);
    for (const [q, v] of [[s.p50, 500], [s.p90, 900], [s.p95, 950], [s.p99, 990], [s.p9990, 999]] as const) assert.ok(q >= v && q <= v * 1.1, `${q} for ${v}`);
    assert.equal(h.quantile(0.5), s.p50);
  });

  test('negative and NaN values count as zero', () => {
    const h = new Histogram(new HistogramWindow(60_000, 6, false));
    h.add(-3);
    h.add(Number.NaN);
    assert.deepEqual([h.snapshot().count, h.snapshot().max, h.snapshot().sum], [2, 0, 0]);
  });

  test('recording allocates nothing once the histogram has its first value', () => {
    const h = new Histogram(new HistogramWindow(60_000, 6, false));
    h.add(1);
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000_000; i++) h.add(i % 5000);
    // A million adds that each allocated even one small object would take tens of MB.
    assert.ok(process.memoryUsage().heapUsed - before < 2 * 1024 * 1024, 'heap grew while recording');
  });
});

describe('registry bounds', () => {
  test('past maxMetrics new names count but are not exported, and the refusals are counted', () => {
    const r = new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false), maxMetrics: 50 });
    for (let i = 0; i < 200; i++) r.counter(`rt/r/service/s${i}/requests`).incr();
    const flat = r.flat();
    assert.equal(flat['process/metrics/count'], 50);
    assert.equal(flat['process/metrics/dropped'], 152);
    assert.equal(Object.keys(flat).length, 50);
    // Removing a scope makes room again.
    r.removeScope('rt/r/service/s0');
    r.counter('rt/r/service/late/requests').incr(3);
    assert.equal(r.flat()['rt/r/service/late/requests'], 3);
    assert.ok(prometheusText(r).includes('process:metrics:dropped'));
    r.close();
  });
});

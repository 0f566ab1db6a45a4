// Process metrics in the place of linkerd's `jvm/*`: uptime, memory, event-loop delay and
// garbage collection, as gauges read when the tree is read (nothing runs per request).

import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { MetricsRegistry } from './metrics.ts';

/** How long one reading of the process's memory stands for the next gauge that asks. */
const MEMORY_FRESH_MS = 50;

/** Registers `process/...` gauges; the returned function stops the watchers. */
export function processMetrics(registry: MetricsRegistry): () => void {
  const started = performance.now();
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  let gcMs = 0;
  let gcCycles = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcCycles++;
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  registry.gauge('process/uptime_ms', () => Math.round(performance.now() - started));
  // One reading of the memory (a read of /proc and a walk of the heap's spaces) serves the
  // three gauges of a scrape.
  let memory = process.memoryUsage();
  let memoryAt = performance.now();
  const mem = (): NodeJS.MemoryUsage => {
    const now = performance.now();
    if (now - memoryAt > MEMORY_FRESH_MS) {
      memory = process.memoryUsage();
      memoryAt = now;
    }
    return memory;
  };
  registry.gauge('process/memory/rss_bytes', () => mem().rss);
  registry.gauge('process/memory/heap_used_bytes', () => mem().heapUsed);
  registry.gauge('process/memory/heap_total_bytes', () => mem().heapTotal);
  // Event-loop delay in ms over the last ten to twenty seconds: what a request waits before it
  // is looked at. Reading does not reset it, so the dashboard and a scraper see the same.
  let lastP99 = 0;
  const p99 = (): number => {
    const v = delay.percentile(99) / 1e6;
    return Number.isFinite(v) ? v : 0;
  };
  const roll = setInterval(() => {
    lastP99 = p99();
    delay.reset();
  }, 10_000);
  roll.unref();
  registry.gauge('process/event_loop/delay_p99_ms', () => Math.round(Math.max(lastP99, p99()) * 1000) / 1000);
  registry.gauge('process/gc/msec', () => Math.round(gcMs));
  registry.gauge('process/gc/cycles', () => gcCycles);
  return () => {
    clearInterval(roll);
    delay.disable();
    gc.disconnect();
  };
}

// Public surface of metrics/: the metrics tree and its handles.
export { Counter, Gauge, Histogram, HistogramWindow, MetricsRegistry, RequestStats, SumGauge } from './metrics.ts';
export type { ExportCache, HistogramSnapshot, Metric, RegistryOptions } from './metrics.ts';
export { prometheusName, prometheusText, streamPrometheus } from './prometheus.ts';
export { flatJson, SNAP, streamFlatJson, treeOf, treeOfSliced } from './json.ts';
export { processMetrics } from './process.ts';
export { releaseChunk } from './bytes.ts';
export { ExportThread, THREAD_MIN_METRICS } from './export-thread.ts';
export type { ExportOf, ExportThreadOptions } from './export-thread.ts';
export type { SocketTarget } from './fd-writer.ts';

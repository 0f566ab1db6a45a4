// Public surface of metrics/: the metrics tree and its handles.
export { Counter, Histogram, MetricsRegistry, RequestStats } from './metrics.ts';
export type { HistogramSnapshot, Metric } from './metrics.ts';
export { prometheusName, prometheusText } from './prometheus.ts';
export { processMetrics } from './process.ts';

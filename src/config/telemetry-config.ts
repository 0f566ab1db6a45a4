// linkerd's `telemetry` list (spec/linkerd.md §9). dtabd applies `io.l5d.prometheus` (the
// Prometheus text at `path`, names prefixed by `prefix`) and `io.l5d.recentRequests` (a
// sample of recent requests on the admin `/requests` page); the other kinds are read, checked
// for a `kind`, and listed as not applied yet.

import { ConfigError, ConfigReader } from '../core/index.ts';

export interface TelemetryConfig {
  /** Where the Prometheus text is served, and the prefix of every name. */
  readonly prometheus: { readonly path: string; readonly prefix: string };
  /** The `/requests` sample, when configured. */
  readonly recentRequests: { readonly sampleRate: number; readonly capacity: number } | undefined;
}

export const DEFAULT_PROMETHEUS_PATH = '/admin/metrics/prometheus';

/** Telemeter kinds linkerd has whose behaviour dtabd does not apply yet. */
const LATER_KINDS = ['io.l5d.influxdb', 'io.l5d.statsd', 'io.l5d.zipkin', 'io.l5d.tracelog', 'io.l5d.commonMetrics'];

/** Reads `telemetry` (a list, or absent); telemeters not applied are added to `notApplied`. */
export function readTelemetry(raw: unknown, at: string, notApplied: string[]): TelemetryConfig {
  // Without `io.l5d.prometheus` the text is still served at linkerd's path: it costs nothing
  // until scraped, and scrapers need not know the config.
  let prometheus = { path: DEFAULT_PROMETHEUS_PATH, prefix: '' };
  let recentRequests: TelemetryConfig['recentRequests'];
  if (raw === undefined || raw === null) return { prometheus, recentRequests };
  if (!Array.isArray(raw)) throw new ConfigError(at, 'expected a list of telemeters');
  raw.forEach((t, i) => {
    const c = new ConfigReader(t, `${at}[${i}]`);
    const kind = c.string('kind');
    switch (kind) {
      case 'io.l5d.prometheus': {
        const path = c.optionalString('path') ?? DEFAULT_PROMETHEUS_PATH;
        if (!path.startsWith('/') || /[\s?#]/.test(path)) throw c.error('path', `expected a URL path starting with /, not ${JSON.stringify(path)}`);
        const prefix = c.optionalString('prefix') ?? '';
        if (!/^[a-zA-Z0-9_:]*$/.test(prefix)) throw c.error('prefix', `a Prometheus name prefix holds only letters, digits, _ and :, not ${JSON.stringify(prefix)}`);
        prometheus = { path, prefix };
        break;
      }
      case 'io.l5d.recentRequests': {
        if (!c.has('sampleRate')) throw c.error('sampleRate', 'sampleRate is required (a share of requests, 0 to 1)');
        const sampleRate = c.optionalNumber('sampleRate', 0, 1)!;
        const capacity = c.optionalInteger('capacity', 1, 10_000) ?? 10;
        recentRequests = { sampleRate, capacity };
        break;
      }
      default:
        if (!LATER_KINDS.includes(kind)) throw c.error('kind', `unknown telemeter kind ${JSON.stringify(kind)}; known kinds: io.l5d.prometheus, io.l5d.recentRequests, ${LATER_KINDS.join(', ')}`);
        notApplied.push(`${at}[${i}] (${kind})`);
        // Its keys are the telemeter's own: read, not applied.
        return;
    }
    c.done();
  });
  return { prometheus, recentRequests };
}

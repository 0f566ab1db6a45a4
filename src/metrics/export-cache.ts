// What the exporters keep of each metric between scrapes.

/** What exporters keep of a metric between reads: its name as each prints it. */
export class ExportCache {
  /** `,"name":` for each value it prints in `/admin/metrics.json`. */
  json: Buffer[] | undefined = undefined;
  /** The start of each Prometheus line it prints, for `promPrefix`. */
  prom: Buffer[] | undefined = undefined;
  promPrefix = '';
  elems: string[] | undefined = undefined;
}

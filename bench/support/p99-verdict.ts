// Whether scraping raises the proxy's p99: the per-round differences of the load part's phases
// (each round's phases run back to back, so a drift of the machine's speed moves them together),
// their median, and how far that median can be trusted. On a 2-core virtual machine the rounds
// differ by milliseconds, so a median over 24 rounds moves by about 0.1 ms from run to run: the
// interval says so instead of a bare verdict, and bench/admin-pool.ts pools several runs.

import { median } from './measure.ts';

/** What a verdict needs of a load phase. */
export interface P99Phase {
  readonly scraping: boolean;
  readonly control?: boolean;
  readonly sameBytes?: boolean;
  readonly result: { readonly p99: number };
}

/**
 * The `level` interval of the median of `xs` by bootstrap: the rounds drawn again with
 * replacement, `resamples` times, from a fixed seed (so a run's output is the same when read
 * again).
 */
export function medianInterval(xs: readonly number[], level = 0.9, resamples = 4000): [number, number] {
  if (xs.length === 0) return [Number.NaN, Number.NaN];
  let seed = 0x9e3779b9;
  const next = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  const medians: number[] = [];
  const draw = new Array<number>(xs.length);
  for (let i = 0; i < resamples; i++) {
    for (let k = 0; k < xs.length; k++) draw[k] = xs[Math.floor(next() * xs.length)]!;
    medians.push(median(draw));
  }
  medians.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return [medians[Math.floor(tail * resamples)]!, medians[Math.min(resamples - 1, Math.floor((1 - tail) * resamples))]!];
}

/**
 * The verdict lines for rounds of phases (`rounds`: each round's phases, in any order). "Not
 * raised": the median over rounds of (scraping p99 - quiet p99) within 10 % of the median quiet
 * p99; where the same bodies were also scraped from nginx, the median of (scraping p99 - that
 * phase's p99): the rise that is the daemon's own and not the scraper's or the bytes'.
 */
export function p99Verdicts(rounds: readonly (readonly P99Phase[])[]): string[] {
  const pick = (f: (r: P99Phase) => boolean): number[] => rounds.map((phases) => phases.find(f)?.result.p99 ?? Number.NaN);
  const quiet = pick((r) => !r.scraping && r.control !== true && r.sameBytes !== true);
  const busy = pick((r) => r.scraping);
  const same = pick((r) => r.sameBytes === true);
  const quietP99 = median(quiet);
  const line = quietP99 * 0.1;
  const interval = (xs: number[]): string => {
    const [lo, hi] = medianInterval(xs);
    return `90 % interval ${lo.toFixed(0)}..${hi.toFixed(0)} µs`;
  };
  const rise = busy.map((b, i) => b - quiet[i]!);
  const out = [
    `p99 with scraping less p99 without, by round: ${rise.join(', ')} µs; median ${median(rise).toFixed(0)} µs (${interval(rise)}) against a median quiet p99 of ${quietP99.toFixed(0)} µs ` +
      `(${median(rise) <= line ? 'within 10 %' : 'more than 10 %'})`,
  ];
  if (same.every((x) => !Number.isNaN(x))) {
    const own = busy.map((b, i) => b - same[i]!);
    out.push(
      `p99 scraping the daemon less p99 scraping the same bodies from nginx, by round: ${own.join(', ')} µs; the daemon's own share, median: ${median(own).toFixed(0)} µs (${interval(own)}); ` +
        `${median(own) <= line ? 'not raised: met' : 'raised: NOT met'} (<= 10 % of the quiet p99, ${line.toFixed(0)} µs)`,
    );
  } else out.push(`p99 under scraping: ${median(rise) <= line ? 'not raised: met' : 'raised: NOT met'} (<= 10 % of the quiet p99; --same-bytes tells the daemon's own share)`);
  return out;
}

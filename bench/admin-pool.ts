// Pools the load part of several `npm run bench:admin` runs: the per-round p99 differences of
// every run, with the median and its interval over all of them. A run of 24 rounds moves its
// median by about 0.1 ms from run to run on a 2-core machine; four runs pooled halve that.
//
//   npm run bench:admin -- --only load --rounds 24 --same-bytes > run1.txt   (and run2.txt ...)
//   npm run bench:admin:pool -- run1.txt run2.txt ...
//
// Each file is a run's whole output, or only the JSON line it ends with (as the runs kept in
// bench/results/admin-p99/ are).

import { readFileSync } from 'node:fs';
import { type P99Phase, p99Verdicts } from './support/p99-verdict.ts';

interface Run {
  readonly measured: string;
  readonly load: (P99Phase & { readonly round: number })[];
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npm run bench:admin:pool -- <output of bench:admin> ...');
  process.exit(2);
}
const rounds: P99Phase[][] = [];
for (const file of files) {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"bench":"admin"'));
  if (line === undefined) throw new Error(`${file}: no result line from bench:admin (a run cut short?)`);
  const run = JSON.parse(line) as Run;
  if (run.load.length === 0) throw new Error(`${file}: the run has no load part (--only load)`);
  const byRound = new Map<number, P99Phase[]>();
  for (const r of run.load) byRound.set(r.round, [...(byRound.get(r.round) ?? []), r]);
  rounds.push(...byRound.values());
  console.log(`${file}: ${byRound.size} rounds, ${run.measured}`);
}
console.log(`\n${rounds.length} rounds pooled:`);
for (const v of p99Verdicts(rounds)) console.log(`- ${v}`);

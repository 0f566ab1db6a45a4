// Micro-benchmark of the dtab language on the request path, on the exact inputs of Finagle's
// published figures (spec/finagle-parse-anchor.md), measured the same way: one process per
// case (so one case's JIT profile cannot pollute another's), warm-up until batch times settle,
// then 30 timed batches of about 200 ms; the median batch gives ns/op. GC is included.
//
//   npm run bench:dtab            all cases, a table for bench/RESULTS.md
//   node bench/dtab.ts --case a   one case, one JSON line (add --retain 1024 to keep results alive)

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const TWENTY = readFileSync(new URL('twenty-dentries.dtab', import.meta.url), 'utf8');
const ONE = '/svc/web => /svc/web-v2';
const TREE = '/a | (/b & 0.5*/c) | ~ | !';
const PATH = '/svc/web/a/b';

/** Finagle 21.4.0 on this machine's kind, ns/op (spec/finagle-parse-anchor.md) and targets. */
const CASES = {
  a: { what: '`Dtab.read` of one dentry', finagle: 236, target: 500 },
  b: { what: '`Dtab.read` of the 20-dentry dtab (737 chars)', finagle: 7205, target: 15000 },
  c: { what: '`lookup(/svc/web/a/b)` on the 20-dentry dtab', finagle: 567, target: 570 },
  c2: { what: '`lookup(Path.read(/svc/web/a/b))`', finagle: 699, target: undefined },
  p: { what: '`Path.read(/svc/web/a/b)`', finagle: 76, target: undefined },
  d: { what: '`NameTree.read(/a \\| (/b & 0.5*/c) \\| ~ \\| !)`', finagle: 553, target: 1100 },
  cached: { what: 'one-dentry `l5d-dtab` served by the LRU (`DtabCache.read`)', finagle: undefined, target: 200 },
} as const;
type CaseName = keyof typeof CASES;

async function operation(name: CaseName): Promise<() => unknown> {
  const { readDtab, readNameTree, readPath, DtabCache } = await import('../src/dtab/index.ts');
  switch (name) {
    case 'a':
      return () => readDtab(ONE);
    case 'b':
      return () => readDtab(TWENTY);
    case 'c': {
      const d = readDtab(TWENTY);
      const p = readPath(PATH);
      return () => d.lookup(p);
    }
    case 'c2': {
      const d = readDtab(TWENTY);
      return () => d.lookup(readPath(PATH));
    }
    case 'p':
      return () => readPath(PATH);
    case 'd':
      return () => readNameTree(TREE);
    case 'cached': {
      const cache = new DtabCache(1000);
      // Distinct strings with equal text, as a header value arriving on each request is.
      const texts = Array.from({ length: 1024 }, () => (' ' + ONE).slice(1));
      let i = 0;
      return () => cache.read(texts[i++ & 1023]!);
    }
  }
}

/**
 * Where results go so the work cannot be optimised away. By default only the latest result is
 * kept, as JMH's Blackhole keeps none. With `--retain 1024` the last 1,024 stay alive in a
 * ring, as in the harness that measured Finagle: on the JVM's 1 GB heap they die young, but
 * V8's young generation copies them on every scavenge, so that column mostly measures the
 * collector (see RESULTS.md).
 */
let sink: unknown;
let ring: unknown[] = [];

function batch(op: () => unknown, n: number): number {
  const t0 = process.hrtime.bigint();
  if (ring.length === 0) {
    for (let i = 0; i < n; i++) sink = op();
  } else {
    const mask = ring.length - 1;
    for (let i = 0; i < n; i++) ring[i & mask] = op();
    sink = ring[0];
  }
  return Number(process.hrtime.bigint() - t0);
}

async function runCase(name: CaseName): Promise<void> {
  const op = await operation(name);
  // Warm up: double the batch until it takes 50 ms, and keep going for at least 3 s and until
  // three consecutive batches agree within 5 %.
  let n = 1000;
  while (batch(op, n) < 50e6) n *= 2;
  const start = Date.now();
  const recent: number[] = [];
  for (;;) {
    recent.push(batch(op, n) / n);
    if (recent.length > 3) recent.shift();
    const settled = recent.length === 3 && Math.max(...recent) / Math.min(...recent) < 1.05;
    if (Date.now() - start > 3000 && settled) break;
    if (Date.now() - start > 15000) break;
  }
  const perBatch = Math.max(1, Math.round((200e6 / (recent.at(-1)! * n)) * n));
  const samples: number[] = [];
  for (let i = 0; i < 30; i++) samples.push(batch(op, perBatch) / perBatch);
  samples.sort((x, y) => x - y);
  const median = (samples[14]! + samples[15]!) / 2;
  if (sink === undefined) throw new Error('no result');
  console.log(JSON.stringify({ case: name, median, min: samples[0], max: samples[29], perBatch }));
}

/** The first parse in a fresh process: module loading and parser set-up included. */
function coldRun(): void {
  const script = `
    const t0 = performance.now();
    const { readDtab } = await import(${JSON.stringify(new URL('../src/dtab/index.ts', import.meta.url).href)});
    const t1 = performance.now();
    readDtab(${JSON.stringify(ONE)});
    const t2 = performance.now();
    readDtab(${JSON.stringify(ONE)});
    const t3 = performance.now();
    console.log(JSON.stringify({ sinceStart: t2, importMs: t1 - t0, firstCallMs: t2 - t1, secondCallUs: (t3 - t2) * 1000 }));`;
  const runs: Record<string, number>[] = [];
  for (let i = 0; i < 10; i++) {
    runs.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })));
  }
  const med = (k: string) => {
    const v = runs.map((r) => r[k]!).sort((x, y) => x - y);
    return (v[4]! + v[5]!) / 2;
  };
  console.log(
    JSON.stringify({
      case: 'cold',
      firstCallMs: med('firstCallMs'),
      importMs: med('importMs'),
      sinceStartMs: med('sinceStart'),
      secondCallUs: med('secondCallUs'),
    }),
  );
}

const arg = process.argv.indexOf('--case');
const retainArg = process.argv.indexOf('--retain');
if (retainArg > 0) {
  const n = Number(process.argv[retainArg + 1]);
  if (!Number.isInteger(Math.log2(n))) throw new Error('--retain takes a power of two');
  ring = new Array<unknown>(n).fill(null);
}
if (arg > 0) {
  const name = process.argv[arg + 1];
  if (name === 'cold') coldRun();
  else await runCase(name as CaseName);
} else {
  const rows: string[] = [];
  const measure = (name: CaseName, extra: string[]) =>
    JSON.parse(
      execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--case', name, ...extra], { encoding: 'utf8', cwd: HERE }),
    ) as { median: number; min: number; max: number };
  for (const name of Object.keys(CASES) as CaseName[]) {
    const r = measure(name, []);
    const kept = measure(name, ['--retain', '1024']);
    const c = CASES[name];
    const vsFinagle = c.finagle === undefined ? '-' : (r.median / c.finagle).toFixed(2) + ' x';
    const target = c.target === undefined ? '-' : `≤ ${c.target} ${r.median <= c.target ? '✓' : '✗'}`;
    rows.push(
      `| ${name} | ${c.what} | **${r.median.toFixed(0)}** | ${r.min.toFixed(0)}..${r.max.toFixed(0)} | ${kept.median.toFixed(0)} | ${c.finagle ?? '-'} | ${vsFinagle} | ${target} |`,
    );
    console.error(rows.at(-1));
  }
  const cold = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--case', 'cold'], { encoding: 'utf8' }));
  console.log('| case | operation | ns/op (median of 30) | batch min..max | ns/op keeping 1,024 results | Finagle ns/op | ratio | target ns |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  console.log();
  console.log(
    `Cold (median of 10 fresh processes): first \`readDtab\` call ${cold.firstCallMs.toFixed(2)} ms ` +
      `(parser built on first use; target ≤ 20 ms), module import before it ${cold.importMs.toFixed(1)} ms, ` +
      `first parse done ${cold.sinceStartMs.toFixed(1)} ms after process start, second call ${cold.secondCallUs.toFixed(0)} µs.`,
  );
  console.log(`Node ${process.version}, ${process.arch}.`);
}

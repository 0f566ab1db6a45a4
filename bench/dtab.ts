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
import { measure, median } from './support/measure.ts';

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

async function runCase(name: CaseName, retain: number): Promise<void> {
  const r = measure(await operation(name), { retain });
  console.log(JSON.stringify({ case: name, ...r }));
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
  const med = (k: string) => median(runs.map((r) => r[k]!));
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
const retain = retainArg > 0 ? Number(process.argv[retainArg + 1]) : 0;
if (arg > 0) {
  const name = process.argv[arg + 1];
  if (name === 'cold') coldRun();
  else await runCase(name as CaseName, retain);
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

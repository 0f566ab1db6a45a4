// `npm run conformance -- FILE.json [FILE.json ...]`: runs dtab conformance vectors (the format
// of spec/dtab.md §12), prints a line for each failing case and a closing
// `N passed, M failed`; exits 1 when any case fails or no case ran.

import { readFileSync } from 'node:fs';
import { type Case, runAll } from '../test/conformance/runner.ts';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npm run conformance -- FILE.json [FILE.json ...]');
  process.exit(2);
}

let passed = 0;
let failed = 0;
for (const file of files) {
  let cases: Case[];
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(parsed)) throw new Error('expected a JSON array of cases');
    cases = parsed as Case[];
  } catch (e) {
    console.error(`${file}: ${(e as Error).message}`);
    process.exit(2);
  }
  for (const o of runAll(cases)) {
    if (o.passed) passed++;
    else {
      failed++;
      console.log(`FAIL ${o.id}: expected ${JSON.stringify(o.expected)} got ${JSON.stringify(o.actual)}`);
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);

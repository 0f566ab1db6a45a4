// Runs the test suite: every test/**/*.test.ts file, listed explicitly, through node's test
// runner. Fails when any test fails or is skipped, and also when no test ran at all, so a glob
// that matches nothing cannot pass silently. The Debian packages the tests drive (a real
// browser, the reference Prometheus parser) are installed first when missing.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** Debian packages the tests use: Chromium for the admin pages, Prometheus's Python client for its parser. */
const PACKAGES = ['chromium', 'python3-prometheus-client'];

function installed(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

const missing = PACKAGES.filter((p) => !installed(p));
if (missing.length > 0) {
  console.log(`installing ${missing.join(', ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env }) : update;
  if (install.status !== 0) {
    console.error(`could not install ${missing.join(', ')}: the tests that need them cannot run (apt-get needs root)`);
    process.exit(1);
  }
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : findTests('test');
if (files.length === 0) {
  console.error('no test files found under test/');
  process.exit(1);
}

/**
 * The files that drive a real browser run on their own, one at a time, after the rest: they time
 * the pages' long tasks, which a second test file running beside them on a 2-core machine
 * would lengthen.
 */
const browser = files.filter((f) => readFileSync(f, 'utf8').includes('playwright-core'));
const batches: [string[], number][] = [
  [files.filter((f) => !browser.includes(f)), 2],
  [browser, 1],
];

let tests = 0;
let pass = 0;
let fail = 0;
let notRun = 0;
for (const [batch, concurrency] of batches) {
  if (batch.length === 0) continue;
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...batch], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
  process.stdout.write(r.stdout ?? '');
  const count = (label: string): number => Number(new RegExp(`ℹ ${label} (\\d+)`).exec(r.stdout ?? '')?.[1] ?? 0);
  tests += count('tests');
  pass += count('pass');
  fail += count('fail');
  notRun += count('skipped') + count('todo');
  if (r.status !== 0 || count('fail') > 0) process.exit(r.status || 1);
}
if (notRun > 0) {
  // A test that did not run (a missing peer, a forgotten skip) is a test that did not pass.
  console.error(`${notRun} test(s) skipped or left as todo`);
  process.exit(1);
}
if (tests === 0 || pass === 0) {
  console.error('the test runner ran no test');
  process.exit(1);
}
console.log(`${pass} passed, ${fail} failed`);

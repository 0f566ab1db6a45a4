// The file watcher under trouble: the OS refusing a watch (EMFILE), a watch failing while in
// use (ENOSPC), a watched directory replaced by another of the same name. None of it may crash
// or stop updates: the rescan carries them, and the watch comes back when it can.
//
// These tests replace fs.watch for the whole process, so they live apart from fs.test.ts.

import assert from 'node:assert/strict';
import fs, { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, type TestContext, test } from 'node:test';
import { type ActivityState, type Log, SILENT_LOG } from '../../src/core/index.ts';
import { activeWatches, watchDir, watchFile } from '../../src/namer/fs/index.ts';

const base = mkdtempSync(join(tmpdir(), 'dtabd-fs-watch-'));
after(() => rmSync(base, { recursive: true, force: true }));
let dirs = 0;
function freshDir(): string {
  const d = join(base, `d${dirs++}`);
  mkdirSync(d);
  return d;
}

const RESCAN_MS = 200;
const realWatch = fs.watch;

/** Puts `replacement` in place of fs.watch, for this module and the watcher alike. */
function patchWatch(replacement: typeof fs.watch): void {
  (fs as { watch: typeof fs.watch }).watch = replacement;
  syncBuiltinESMExports();
}

afterEach(() => patchWatch(realWatch));

function recordingLog(): { log: Log; warnings: string[] } {
  const warnings: string[] = [];
  return { log: { ...SILENT_LOG, warn: (o: unknown, msg?: string) => void warnings.push(`${msg} ${JSON.stringify(o)}`) }, warnings };
}

/**
 * Observes a file's text until the test ends (or `close`); `until` waits for the given text
 * (or a failure matching it).
 */
function observeText(t: TestContext, path: string, log: Log, rescanIntervalMs = RESCAN_MS) {
  let latest: ActivityState<string> = { kind: 'pending' };
  const shown = () => (latest.kind === 'ok' ? latest.value : latest.kind === 'failed' ? `failed: ${latest.error.message}` : 'pending');
  const sub = watchFile(path, { rescanIntervalMs, log }).observe((s) => (latest = s));
  t.after(() => sub.close());
  return {
    shown,
    async until(want: string | RegExp, ms: number): Promise<number> {
      const t0 = Date.now();
      const matches = () => (typeof want === 'string' ? shown() === want : want.test(shown()));
      while (!matches()) {
        if (Date.now() - t0 > ms) assert.fail(`waited ${ms} ms for ${want}; have ${shown()}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return Date.now() - t0;
    },
    close: () => sub.close(),
  };
}

test('fs.watch refused (EMFILE): one warning, no watch counted, the rescan still delivers edits', async (t) => {
  let attempts = 0;
  patchWatch((() => {
    attempts++;
    throw Object.assign(new Error('EMFILE: too many open files, watch'), { code: 'EMFILE' });
  }) as typeof fs.watch);
  const dir = freshDir();
  const f = join(dir, 'web');
  writeFileSync(f, 'one');
  const { log, warnings } = recordingLog();
  const text = observeText(t, f, log);
  await text.until('one', 1000);
  assert.equal(activeWatches(), 0);
  writeFileSync(f, 'two');
  await text.until('two', RESCAN_MS * 4);
  assert.ok(attempts >= 2, 'the watch is tried again on a rescan');
  assert.equal(warnings.length, 1, `one warning for the outage: ${warnings.join('; ')}`);
  assert.match(warnings[0]!, /cannot watch directory.*EMFILE/);
  text.close();
});

test('a watch that fails in use (ENOSPC) is dropped with a warning, and reopened on the next rescan', async (t) => {
  const opened: fs.FSWatcher[] = [];
  patchWatch(((...args: Parameters<typeof fs.watch>) => {
    const w = realWatch(...args);
    opened.push(w);
    return w;
  }) as typeof fs.watch);
  const dir = freshDir();
  const f = join(dir, 'web');
  writeFileSync(f, 'one');
  const { log, warnings } = recordingLog();
  const text = observeText(t, f, log);
  await text.until('one', 1000);
  assert.equal(activeWatches(), 1);
  opened[0]!.emit('error', Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' }));
  assert.equal(activeWatches(), 0);
  assert.match(warnings.join(), /directory watch failed.*ENOSPC/);
  // Edits keep arriving meanwhile, and the next rescan opens a new watch.
  writeFileSync(f, 'two');
  await text.until('two', RESCAN_MS * 4);
  const t0 = Date.now();
  while (activeWatches() === 0 && Date.now() - t0 < RESCAN_MS * 4) await new Promise((r) => setTimeout(r, 10));
  assert.equal(activeWatches(), 1);
  assert.equal(opened.length, 2);
  text.close();
  assert.equal(activeWatches(), 0);
});

test('a watched directory deleted and made again at once: the new one is watched, not only rescanned', async (t) => {
  const dir = freshDir();
  writeFileSync(join(dir, 'web'), 'one');
  // A rescan far beyond the test: only a working OS watch can deliver what follows.
  const slow = 60_000;
  const { log } = recordingLog();
  const text = observeText(t, join(dir, 'web'), log, slow);
  const listing: { now: ActivityState<ReadonlyMap<string, string>> } = { now: { kind: 'pending' } };
  const sub = watchDir(dir, { rescanIntervalMs: slow, log }).observe((s) => (listing.now = s));
  t.after(() => sub.close());
  await text.until('one', 1000);
  rmSync(dir, { recursive: true });
  mkdirSync(dir);
  writeFileSync(join(dir, 'web'), 'two');
  await text.until('two', 1500);
  // The old directory's watch is dead; these reach observers only through a new one.
  writeFileSync(join(dir, 'web'), 'three');
  await text.until('three', 1500);
  writeFileSync(join(dir, 'later'), '');
  const t0 = Date.now();
  while (!(listing.now.kind === 'ok' && listing.now.value.has('later'))) {
    if (Date.now() - t0 > 1500) assert.fail('the new file was not seen');
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(activeWatches(), 1);
  sub.close();
  text.close();
  assert.equal(activeWatches(), 0);
});

test('a watched directory deleted: the file is failed and its watch closed; made again, both come back', async (t) => {
  const dir = freshDir();
  writeFileSync(join(dir, 'web'), 'one');
  const { log, warnings } = recordingLog();
  const text = observeText(t, join(dir, 'web'), log);
  await text.until('one', 1000);
  rmSync(dir, { recursive: true });
  await text.until(/^failed: .*web does not exist$/, 1500);
  const t0 = Date.now();
  while (activeWatches() !== 0 && Date.now() - t0 < RESCAN_MS * 4) await new Promise((r) => setTimeout(r, 10));
  assert.equal(activeWatches(), 0, 'no watch held on a deleted directory');
  mkdirSync(dir);
  writeFileSync(join(dir, 'web'), 'two');
  await text.until('two', RESCAN_MS * 4);
  const t1 = Date.now();
  while (activeWatches() !== 1 && Date.now() - t1 < RESCAN_MS * 4) await new Promise((r) => setTimeout(r, 10));
  assert.equal(activeWatches(), 1);
  assert.deepEqual(warnings, [], 'a deleted directory is not a watch failure');
  text.close();
});

test('a file over the limit, then back under it', async (t) => {
  const dir = freshDir();
  const f = join(dir, 'big');
  writeFileSync(f, 'x'.repeat(512_001));
  const text = observeText(t, f, SILENT_LOG);
  await text.until(`failed: file ${f} is 512001 bytes, over the 500 KB limit`, 1000);
  writeFileSync(f, 'x'.repeat(512_000));
  await text.until(/^x{512000}$/, 1500);
  text.close();
});

test('every observer closed: no OS watch is left open', () => {
  assert.equal(activeWatches(), 0);
});

// The io.l5d.fs namer on real directories: binding, live edits, created and deleted files, a
// deleted rootDir, the rescan alone, hostile files and names, and watches closed when unused.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { type Activity, type ActivityState, type Closable, ConfigError, ConfigReader, SILENT_LOG } from '../../src/core/index.ts';
import { type Addr, BoundName, Dtab, type Name, type NameTree, Path, readPath } from '../../src/dtab/index.ts';
import {
  activeWatches,
  builtinRegistry,
  dtabFileStatus,
  FsNamer,
  fsNamerKind,
  globalBinder,
  interpreterFromConfig,
  type NamerContext,
  parseAddrFile,
  systemLookup,
  watchFile,
} from '../../src/namer/index.ts';

const base = mkdtempSync(join(tmpdir(), 'dtabd-fs-'));
after(() => rmSync(base, { recursive: true, force: true }));
let dirs = 0;
function freshDir(): string {
  const d = join(base, `root${dirs++}`);
  mkdirSync(d);
  return d;
}

const RESCAN_MS = 200;
const ctx: NamerContext = {
  prefix: readPath('/#/io.l5d.fs'),
  resolver: async (h) => (h === 'web.test' ? ['192.0.2.10', '192.0.2.11'] : []),
  log: SILENT_LOG,
  rescanIntervalMs: RESCAN_MS,
};

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Observes an activity, recording each state in words; `until` waits for one matching. */
function watchLookup(a: Activity<NameTree<Name>>) {
  const seen: string[] = [];
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  let latest: ActivityState<NameTree<Name>> = { kind: 'pending' };
  const addrSubs: Closable[] = [];
  let addrText = '';
  const describe = (): string => {
    const s = latest;
    if (s.kind !== 'ok') return s.kind === 'failed' ? `failed: ${s.error.message}` : 'pending';
    const t = s.value;
    if (t.kind !== 'leaf') return t.kind;
    const b = t.value as BoundName;
    return `${b.id.show} ${b.residual.show} ${addrText}`;
  };
  const note = () => {
    const d = describe();
    if (seen.at(-1) !== d) seen.push(d);
    for (const w of [...waiters]) if (w.re.test(d)) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  };
  const sub = a.observe((s) => {
    latest = s;
    addrSubs.splice(0).forEach((c) => c.close());
    addrText = '';
    if (s.kind === 'ok' && s.value.kind === 'leaf') {
      const b = s.value.value as BoundName;
      addrSubs.push(b.addr.observe((x) => ((addrText = show(x)), note())));
    }
    note();
  });
  return {
    seen,
    now: describe,
    until(re: RegExp, ms = 3000): Promise<void> {
      if (re.test(describe())) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; seen ${JSON.stringify(seen)}`)), ms);
        waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close() {
      sub.close();
      addrSubs.forEach((c) => c.close());
    },
  };
}

function show(a: Addr): string {
  if (a.kind === 'bound') {
    return '[' + a.addrs.map((x) => `${x.host}:${x.port}${x.meta.endpoint_addr_weight === undefined ? '' : `*${x.meta.endpoint_addr_weight}`}`).sort().join(',') + ']';
  }
  return a.kind === 'failed' ? `failed(${a.error.message})` : a.kind;
}

describe('binding', () => {
  test('a file binds with its id, residual, addresses and weights; a subdirectory is walked', async () => {
    const root = freshDir();
    writeFileSync(join(root, 'web'), '# web\n127.0.0.1 8080\n\n10.0.0.2   8081 * 0.5  # canary\n127.1 8082\n');
    mkdirSync(join(root, 'prod'));
    writeFileSync(join(root, 'prod', 'api'), 'web.test 9000\n');
    const namer = new FsNamer(root, ctx);
    const web = watchLookup(namer.lookup(readPath('/web/a/b')));
    await web.until(/\[/);
    assert.equal(web.now(), '/#/io.l5d.fs/web /a/b [10.0.0.2:8081*0.5,127.0.0.1:8080,127.0.0.1:8082]');
    const api = watchLookup(namer.lookup(readPath('/prod/api')));
    await api.until(/\[/);
    assert.equal(api.now(), '/#/io.l5d.fs/prod/api / [192.0.2.10:9000,192.0.2.11:9000]');
    web.close();
    api.close();
  });

  test('missing names, directories and unusable elements are ~', async () => {
    const root = freshDir();
    mkdirSync(join(root, 'prod'));
    writeFileSync(join(root, 'prod', 'api'), '127.0.0.1 1\n');
    const namer = new FsNamer(root, ctx);
    for (const p of ['/nope', '/prod', '/prod/nope', '/..', '/./prod', '/prod/../prod/api', '/prod/api\\x00']) {
      const w = watchLookup(namer.lookup(readPath(p)));
      await w.until(/^neg$/);
      w.close();
    }
    // Elements that only a hand-built path can carry: an empty one, and an escaped slash.
    for (const p of [Path.empty, new Path(['', 'prod', 'api']), new Path(['prod', '']), readPath('/prod\\x2fapi')]) {
      const w = watchLookup(namer.lookup(p));
      await w.until(/^neg$/);
      w.close();
    }
  });

  test('the same file gives the same bound name across edits, so binding redoes nothing', async () => {
    const root = freshDir();
    writeFileSync(join(root, 'web'), '127.0.0.1 1\n');
    const namer = new FsNamer(root, ctx);
    const a = namer.lookup(readPath('/web'));
    const trees: NameTree<Name>[] = [];
    const sub = a.observe((s) => s.kind === 'ok' && trees.push(s.value));
    const w = watchLookup(a);
    await w.until(/1\]/);
    writeFileSync(join(root, 'web'), '127.0.0.1 2\n');
    await w.until(/:2\]/);
    sub.close();
    w.close();
    assert.equal(trees.length, 1, 'one tree, whose address changed');
  });
});

describe('live updates', () => {
  test('an edit, a new file and a deleted file reach observers within a second', async () => {
    const root = freshDir();
    writeFileSync(join(root, 'web'), '127.0.0.1 8080\n');
    const namer = new FsNamer(root, ctx);
    const web = watchLookup(namer.lookup(readPath('/web')));
    const later = watchLookup(namer.lookup(readPath('/later')));
    await web.until(/8080/);
    await later.until(/^neg$/);

    let t0 = Date.now();
    writeFileSync(join(root, 'web'), '127.0.0.1 9090\n');
    await web.until(/9090/, 1000);
    const editMs = Date.now() - t0;

    t0 = Date.now();
    writeFileSync(join(root, 'later'), '127.0.0.1 7070\n');
    await later.until(/7070/, 1000);

    rmSync(join(root, 'web'));
    await web.until(/^neg$/, 1000);
    // Atomic replace, as editors and config management do it.
    writeFileSync(join(root, '.web.tmp'), '127.0.0.1 6060\n');
    renameSync(join(root, '.web.tmp'), join(root, 'web'));
    await web.until(/6060/, 1000);
    web.close();
    later.close();
    assert.ok(editMs < 1000, `edit took ${editMs} ms`);
  });

  test('with notification off, the rescan alone delivers edits', async () => {
    const root = freshDir();
    writeFileSync(join(root, 'web'), '127.0.0.1 1\n');
    const before = activeWatches();
    const namer = new FsNamer(root, ctx, { notify: false });
    const web = watchLookup(namer.lookup(readPath('/web')));
    await web.until(/:1\]/);
    assert.equal(activeWatches(), before, 'no OS watch');
    writeFileSync(join(root, 'web'), '127.0.0.1 2\n');
    await web.until(/:2\]/, RESCAN_MS * 3);
    writeFileSync(join(root, 'new'), '127.0.0.1 3\n');
    const created = watchLookup(namer.lookup(readPath('/new')));
    await created.until(/:3\]/, RESCAN_MS * 3);
    web.close();
    created.close();
  });

  test('a deleted rootDir fails the lookup without a crash, and it recovers when the folder returns', async () => {
    const root = freshDir();
    writeFileSync(join(root, 'web'), '127.0.0.1 1\n');
    const namer = new FsNamer(root, ctx);
    const web = watchLookup(namer.lookup(readPath('/web')));
    await web.until(/:1\]/);
    rmSync(root, { recursive: true });
    await web.until(/^failed: .* does not exist/, RESCAN_MS * 5);
    mkdirSync(root);
    writeFileSync(join(root, 'web'), '127.0.0.1 2\n');
    await web.until(/:2\]/, RESCAN_MS * 5);
    web.close();
  });

  test('a half-written file settles on its final content', async () => {
    const root = freshDir();
    writeFileSync(join(root, 'web'), '127.0.0.1 1\n');
    const namer = new FsNamer(root, ctx);
    const web = watchLookup(namer.lookup(readPath('/web')));
    await web.until(/:1\]/);
    writeFileSync(join(root, 'web'), '127.0.0.1 2\n10.0.0');
    await wait(1);
    writeFileSync(join(root, 'web'), '127.0.0.1 2\n10.0.0.9 3\n');
    await web.until(/127.0.0.1:2,10.0.0.9:3|10.0.0.9:3,127.0.0.1:2/, 2000);
    web.close();
  });

  test('closing every observer closes every OS watch', async () => {
    const root = freshDir();
    mkdirSync(join(root, 'a'));
    writeFileSync(join(root, 'a', 'x'), '127.0.0.1 1\n');
    writeFileSync(join(root, 'y'), '127.0.0.1 2\n');
    const before = activeWatches();
    const namer = new FsNamer(root, ctx);
    const ws = ['/a/x', '/y', '/a/x/residual', '/nope'].map((p) => watchLookup(namer.lookup(readPath(p))));
    await ws[0]!.until(/\[/);
    await ws[1]!.until(/\[/);
    assert.ok(activeWatches() > before);
    assert.ok(activeWatches() - before <= 2, 'one watch per directory, however many names');
    ws.forEach((w) => w.close());
    assert.equal(activeWatches(), before);
  });
});

describe('hostile files', () => {
  test('a malformed line fails the address, naming the line; fixing it recovers', async () => {
    const root = freshDir();
    writeFileSync(join(root, 'web'), '127.0.0.1 8080\n127.0.0.1 eighty\n');
    const namer = new FsNamer(root, ctx);
    const web = watchLookup(namer.lookup(readPath('/web')));
    await web.until(/failed/);
    assert.match(web.now(), /^\/#\/io.l5d.fs\/web \/ failed\(malformed address: 127.0.0.1 eighty \(line 2: port eighty is not a number\)\)$/);
    writeFileSync(join(root, 'web'), '127.0.0.1 8080\n');
    await web.until(/8080\]/);
    web.close();
  });

  test('a file over 500 KB fails with its size', async () => {
    const root = freshDir();
    writeFileSync(join(root, 'big'), '127.0.0.1 8080\n'.repeat(40_000));
    const namer = new FsNamer(root, ctx);
    const big = watchLookup(namer.lookup(readPath('/big')));
    await big.until(/failed/);
    assert.match(big.now(), /is 600000 bytes, over the 500 KB limit/);
    big.close();
  });

  test('a symlink loop is ~, a link to a file binds', async () => {
    const root = freshDir();
    symlinkSync(join(root, 'loop2'), join(root, 'loop1'));
    symlinkSync(join(root, 'loop1'), join(root, 'loop2'));
    writeFileSync(join(root, 'real'), '127.0.0.1 5\n');
    symlinkSync(join(root, 'real'), join(root, 'alias'));
    const namer = new FsNamer(root, ctx);
    const loop = watchLookup(namer.lookup(readPath('/loop1')));
    const alias = watchLookup(namer.lookup(readPath('/alias')));
    await loop.until(/^neg$/);
    await alias.until(/:5\]/);
    loop.close();
    alias.close();
  });

  test('10,000 files in rootDir: names bind, with one watch', async () => {
    const root = freshDir();
    for (let i = 0; i < 10_000; i++) writeFileSync(join(root, `s${i}`), `127.0.0.1 ${1 + (i % 60000)}\n`);
    const before = activeWatches();
    const namer = new FsNamer(root, ctx);
    const ws = [0, 4999, 9999].map((i) => watchLookup(namer.lookup(readPath(`/s${i}`))));
    for (const w of ws) await w.until(/\[/, 5000);
    assert.match(ws[2]!.now(), /127.0.0.1:10000\]/);
    assert.equal(activeWatches() - before, 1);
    // 10,000 distinct names looked up at once, half of them missing: still one listing, one watch.
    const trees = new Map<string, string>();
    const subs: Closable[] = [];
    for (let i = 0; i < 5_000; i++) {
      for (const name of [`s${i}`, `missing${i}`]) {
        subs.push(namer.lookup(readPath(`/${name}`)).observe((s) => trees.set(name, s.kind === 'ok' ? s.value.kind : s.kind)));
      }
    }
    assert.equal(activeWatches() - before, 1);
    for (let i = 0; i < 5_000; i++) {
      assert.equal(trees.get(`s${i}`), 'leaf', `s${i}`);
      assert.equal(trees.get(`missing${i}`), 'neg', `missing${i}`);
    }
    subs.forEach((c) => c.close());
    ws.forEach((w) => w.close());
    assert.equal(activeWatches(), before);
  });

  test('a file of 100,000 lines parses', async () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} ${1 + (i % 65535)}`);
    const t0 = performance.now();
    const entries = parseAddrFile(lines.join('\n'));
    const ms = performance.now() - t0;
    assert.equal(entries.length, 100_000);
    assert.ok(ms < 2000, `${ms} ms`);
  });

  test('address file syntax: comments, weights, CRLF, bad ports and weights', () => {
    assert.deepEqual(parseAddrFile('a 1\r\nb 2 * 3.5 # x\n# c 3\n\n   \n'), [
      { host: 'a', port: 1, weight: undefined },
      { host: 'b', port: 2, weight: 3.5 },
    ]);
    assert.deepEqual(parseAddrFile(''), []);
    assert.deepEqual(parseAddrFile('a 1 * 1\na 1 * 2'), [{ host: 'a', port: 1, weight: 2 }]);
    assert.deepEqual(parseAddrFile('::1 80\n[fe80::1] 81\nmy_host.example. 82\n127.1 83\n\t10.0.0.1\t84\t*\t2e0'), [
      { host: '::1', port: 80, weight: undefined },
      { host: '[fe80::1]', port: 81, weight: undefined },
      { host: 'my_host.example.', port: 82, weight: undefined },
      { host: '127.1', port: 83, weight: undefined },
      { host: '10.0.0.1', port: 84, weight: 2 },
    ]);
    for (const [text, why] of [
      ['a', /line 1: expected `host port`/],
      ['a 0', /port 0 is not within 1-65535/],
      ['a 65536', /not within/],
      ['a -1', /not a number/],
      ['ok 1\na 1 x 2', /line 2: expected `\*`/],
      ['a 1 * nope', /weight nope is not a number/],
      ['a 1 * -1', /finite number >= 0/],
      ['a 1 * 1e999', /finite/],
      ['a 1 2 3 4', /expected `host port`/],
      ['http://web 80', /host http:\/\/web is not an IP address or a DNS name/],
      ['web:80 80', /host web:80 is not/],
      ['ok 1 # fine\n\n# skip\nbad\u0000host 2', /line 4: host/],
    ] as const) {
      assert.throws(() => parseAddrFile(text), why, text);
    }
  });
});

describe('watchFile and the config', () => {
  test('a missing file is failed, and ok once created', async () => {
    const root = freshDir();
    const f = join(root, 'dtab');
    const seen: string[] = [];
    const sub = watchFile(f, { rescanIntervalMs: RESCAN_MS, log: SILENT_LOG }).observe((s) =>
      seen.push(s.kind === 'ok' ? `ok ${s.value}` : s.kind === 'failed' ? s.error.message : s.kind),
    );
    while (seen.length < 2) await wait(5);
    writeFileSync(f, '/svc=>/x');
    while (seen.length < 3) await wait(5);
    sub.close();
    assert.deepEqual(seen, ['pending', `${f} does not exist`, 'ok /svc=>/x']);
  });

  test('rootDir is required, must exist and be a directory', () => {
    const parse = (raw: unknown) => fsNamerKind.parseConfig(new ConfigReader(raw, 'namers[0]'));
    const fails = (raw: unknown, why: RegExp) =>
      assert.throws(() => parse(raw), (e: unknown) => e instanceof ConfigError && /namers\[0\]\.rootDir/.test(e.message) && why.test(e.message));
    fails({}, /rootDir/);
    fails({ rootDir: 7 }, /rootDir/);
    fails({ rootDir: join(base, 'absent') }, /absent does not exist/);
    const file = join(base, 'plain-file');
    writeFileSync(file, '');
    fails({ rootDir: file }, /plain-file is not a directory/);
    assert.equal(parse({ rootDir: base }).rootDir, base);
    // A relative rootDir is taken from the working directory.
    assert.equal(parse({ rootDir: relative(process.cwd(), base) }).rootDir, base);
  });
});

describe('the io.l5d.fs interpreter', () => {
  test('applies dtabFile edits live; a malformed edit keeps the last good dtab and reports why', async () => {
    const root = freshDir();
    const dtabFile = join(root, 'dtab');
    writeFileSync(dtabFile, '/svc => /$/inet/127.1/1;\n');
    const registry = builtinRegistry();
    const global = systemLookup({ resolver: ctx.resolver });
    const env = { resolver: ctx.resolver, log: SILENT_LOG, rescanIntervalMs: RESCAN_MS, bindGlobal: globalBinder(global), global };
    const interpreter = interpreterFromConfig({ kind: 'io.l5d.fs', dtabFile }, 'routers[0].interpreter', [], registry, env);
    const ids: string[] = [];
    const note = (s: ActivityState<NameTree<BoundName>>) =>
      ids.push(s.kind === 'ok' ? (s.value.kind === 'leaf' ? s.value.value.id.show : s.value.kind) : s.kind);
    const sub = interpreter.bind(Dtab.empty, readPath('/svc')).observe(note);
    const until = async (id: string) => {
      const t0 = Date.now();
      while (ids.at(-1) !== id) {
        if (Date.now() - t0 > 2000) assert.fail(`waiting for ${id}; seen ${ids.join(', ')}`);
        await wait(5);
      }
    };
    await until('/$/inet/127.1/1');
    writeFileSync(dtabFile, '/svc => /$/inet/127.1/2;\n');
    await until('/$/inet/127.1/2');
    writeFileSync(dtabFile, '/svc => => /oops;\n');
    const t0 = Date.now();
    while (dtabFileStatus(interpreter.dtab)?.error === undefined && Date.now() - t0 < 2000) await wait(5);
    assert.match(dtabFileStatus(interpreter.dtab)!.error!.message, /dtabFile: .*dtab: .* expected but '=' found/);
    assert.equal(ids.at(-1), '/$/inet/127.1/2', 'the last good dtab still serves');
    writeFileSync(dtabFile, '/svc => /$/inet/127.1/3;\n');
    await until('/$/inet/127.1/3');
    assert.equal(dtabFileStatus(interpreter.dtab)!.error, undefined);
    sub.close();
  });

  test('dtabFile is required', () => {
    const registry = builtinRegistry();
    const global = systemLookup({ resolver: ctx.resolver });
    const env = { resolver: ctx.resolver, log: SILENT_LOG, rescanIntervalMs: RESCAN_MS, bindGlobal: globalBinder(global), global };
    assert.throws(() => interpreterFromConfig({ kind: 'io.l5d.fs' }, 'routers[0].interpreter', [], registry, env), /routers\[0\]\.interpreter\.dtabFile/);
    assert.throws(() => interpreterFromConfig({ kind: 'io.l5d.namerd' }, 'routers[0].interpreter', [], registry, env), /io.l5d.namerd is not supported yet/);
  });
});

test('a watched file whose observer throws keeps serving the other observers, without a crash', async () => {
  const root = freshDir();
  const f = join(root, 'web');
  writeFileSync(f, 'one');
  const errors: string[] = [];
  const log = { ...SILENT_LOG, error: (o: unknown) => void errors.push(JSON.stringify(o)) };
  const text = watchFile(f, { rescanIntervalMs: RESCAN_MS, log });
  const bad = text.observe((s) => {
    if (s.kind === 'ok') throw new Error('observer bug');
  });
  const seen: string[] = [];
  const good = text.observe((s) => s.kind === 'ok' && seen.push(s.value));
  while (seen.length < 1) await wait(5);
  writeFileSync(f, 'two');
  while (seen.length < 2) await wait(5);
  bad.close();
  good.close();
  assert.deepEqual(seen, ['one', 'two']);
  assert.ok(errors.some((e) => e.includes('observer bug')));
});

test('every observer closed: no OS watch is left open', () => {
  assert.equal(activeWatches(), 0);
});

// The interpreter over live namers: bindings and delegations that follow namer answers, the
// namer order of linkerd, transformers, the binding cache, and a dtab read from a file.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Activity,
  type ActivityState,
  activityValue,
  asyncVar,
  constVar,
  failed,
  ok,
  PENDING,
  SILENT_LOG,
  witness,
} from '../../src/core/index.ts';
import {
  Addr,
  address,
  BoundName,
  type DelegateTree,
  Dtab,
  type Name,
  type NameTree,
  type Path,
  readDtab,
  readPath,
  showTree,
} from '../../src/dtab/index.ts';
import {
  BindingCache,
  type ConfiguredNamer,
  configuredInterpreter,
  dtabFileStatus,
  dtabFromFile,
  globalBinder,
  globalNamer,
  type Interpreter,
  NamerRegistry,
  rewriteNamerKind,
  type Namer,
  settleDelegation,
  type Transformer,
} from '../../src/namer/index.ts';

const global = globalNamer({ resolver: async () => ['192.0.2.1'] });

/** A namer whose answers the test sets by hand, one witness per looked-up path. */
function handNamer(prefix: string) {
  const answers = new Map<string, [Activity<NameTree<Name>>, (s: ActivityState<NameTree<Name>>) => void]>();
  const lookups: string[] = [];
  const entry = (rest: string) => {
    let e = answers.get(rest);
    if (e === undefined) answers.set(rest, (e = witness<NameTree<Name>>()));
    return e;
  };
  const namer: Namer = {
    lookup(rest: Path) {
      lookups.push(rest.show);
      return entry(rest.show)[0];
    },
  };
  const configured: ConfiguredNamer = { kind: 'hand', prefix: readPath(prefix), namer, transformers: [] };
  return { configured, lookups, set: (rest: string, s: ActivityState<NameTree<Name>>) => entry(rest)[1](s) };
}

function leafOf(id: string, port: number, residual = '/'): NameTree<Name> {
  return { kind: 'leaf', value: new BoundName(constVar(Addr.bound([address('127.0.0.1', port)])), readPath(id), readPath(residual)) };
}

function interp(namers: ConfiguredNamer[], dtab = '', transformers: Transformer[] = []): Interpreter {
  return configuredInterpreter({ kind: 'default', dtab: activityValue(readDtab(dtab)), namers, transformers, global });
}

/** A state in words: pending, failed: <message>, or the bound tree by ids. */
function show(s: ActivityState<NameTree<BoundName>>): string {
  if (s.kind === 'pending') return 'pending';
  if (s.kind === 'failed') return `failed: ${s.error.message}`;
  return showTree(s.value, (b) => b.id.show + (b.residual.isEmpty ? '' : ` ${b.residual.show}`));
}

function watch<T>(a: Activity<T>) {
  const states: ActivityState<T>[] = [];
  const sub = a.observe((s) => states.push(s));
  return { states, close: () => sub.close(), last: () => states.at(-1)! };
}

describe('binding over live namers', () => {
  test('follows a namer from pending to bound, to ~ (falling through an alternation), to failed', () => {
    const fs = handNamer('/#/io.l5d.fs');
    const i = interp([fs.configured], '/svc => /#/io.l5d.fs | /$/inet/127.1/9999');
    const w = watch(i.bind(Dtab.empty, readPath('/svc/web/x')));
    assert.equal(show(w.last()), 'pending');
    fs.set('/web/x', ok(leafOf('/#/io.l5d.fs/web', 8080, '/x')));
    assert.equal(show(w.last()), '/#/io.l5d.fs/web /x');
    fs.set('/web/x', ok({ kind: 'neg' }));
    assert.equal(show(w.last()), '/$/inet/127.1/9999 /web/x');
    fs.set('/web/x', failed(new Error('disk on fire')));
    assert.equal(show(w.last()), 'failed: disk on fire');
    w.close();
  });

  test('an unchanged answer sent again causes no new state', () => {
    const fs = handNamer('/#/fs');
    const i = interp([fs.configured], '/svc => /#/fs');
    const w = watch(i.bind(Dtab.empty, readPath('/svc/a')));
    const answer = leafOf('/#/fs/a', 1);
    fs.set('/a', ok(answer));
    const n = w.states.length;
    fs.set('/a', ok(answer));
    // A new tree object holding the same bound name is the same binding.
    fs.set('/a', ok({ kind: 'leaf', value: (answer as { value: BoundName }).value }));
    assert.equal(w.states.length, n);
    w.close();
  });

  test('namers are asked last configured first, and ~ falls through to the earlier one', () => {
    const first = handNamer('/#/io.l5d.fs');
    const second = handNamer('/#/io.l5d.fs');
    const i = interp([first.configured, second.configured]);
    const w = watch(i.bind(Dtab.empty, readPath('/#/io.l5d.fs/web')));
    assert.deepEqual([first.lookups.length, second.lookups.length], [0, 1]);
    first.set('/web', ok(leafOf('/#/io.l5d.fs/web', 1)));
    second.set('/web', ok({ kind: 'neg' }));
    assert.equal(show(w.last()), '/#/io.l5d.fs/web');
    w.close();
  });

  test('the dtab wins over the namers, even for /# paths', () => {
    const fs = handNamer('/#/io.l5d.fs');
    const i = interp([fs.configured], '/#/io.l5d.fs/web => /$/inet/127.1/1');
    const w = watch(i.bind(Dtab.empty, readPath('/#/io.l5d.fs/web')));
    assert.equal(show(w.last()), '/$/inet/127.1/1');
    assert.equal(fs.lookups.length, 0);
    w.close();
  });

  test('stops observing a namer answer that a new answer no longer needs, and all of them when closed', () => {
    let starts = 0;
    let stops = 0;
    const addrSource = asyncVar(PENDING as ActivityState<NameTree<Name>>, (update) => {
      starts++;
      update(ok(leafOf('/#/b/x', 2)));
      return { close: () => void stops++ };
    });
    const b: ConfiguredNamer = { kind: 'b', prefix: readPath('/#/b'), namer: { lookup: () => addrSource }, transformers: [] };
    const a = handNamer('/#/a');
    const i = interp([b, a.configured], '/svc => /#/a/x | /#/b/x');
    const w = watch(i.bind(Dtab.empty, readPath('/svc')));
    a.set('/x', ok({ kind: 'neg' }));
    assert.equal(show(w.last()), '/#/b/x');
    assert.deepEqual([starts, stops], [1, 0]);
    a.set('/x', ok(leafOf('/#/a/x', 1)));
    assert.equal(show(w.last()), '/#/a/x');
    assert.deepEqual([starts, stops], [1, 1]);
    a.set('/x', ok({ kind: 'neg' }));
    assert.deepEqual([starts, stops], [2, 1]);
    w.close();
    assert.deepEqual([starts, stops], [2, 2]);
  });

  test("a namer's own transformers apply to its bound answers", () => {
    const fs = handNamer('/#/fs');
    const tagging: Transformer = {
      kind: 'test',
      name: 'Tagging',
      prefix: readPath('/%/tag'),
      transform: (tree) => ok(tree.kind === 'leaf' ? { kind: 'leaf', value: retag(tree.value) } : tree),
      transformLeaf: (b) => ok({ kind: 'leaf', value: retag(b) }),
    };
    const tagged = new WeakMap<BoundName, BoundName>();
    function retag(b: BoundName): BoundName {
      let t = tagged.get(b);
      if (t === undefined) tagged.set(b, (t = new BoundName(b.addr, readPath('/%/tag').concat(b.id), b.residual)));
      return t;
    }
    const i = interp([{ ...fs.configured, transformers: [tagging] }], '/svc => /#/fs');
    const w = watch(i.bind(Dtab.empty, readPath('/svc/a')));
    fs.set('/a', ok(leafOf('/#/fs/a', 1)));
    assert.equal(show(w.last()), '/%/tag/#/fs/a');
    w.close();
    // Interpreter transformers show as transformation nodes in delegation trees.
    const j = interp([fs.configured], '/svc => /#/fs', [tagging]);
    fs.set('/a', ok(leafOf('/#/fs/a', 1)));
    const d = j.delegate(Dtab.empty, readPath('/svc/a')).sample();
    assert.equal(d.kind, 'ok');
    const node = findTransformation((d as { value: DelegateTree }).value);
    assert.ok(node !== undefined && node.kind === 'transformation');
    assert.equal(node.name, 'Tagging');
    assert.equal(node.value.id.show, '/#/fs/a');
    assert.equal(node.tree.kind === 'leaf' && node.tree.path.show, '/%/tag/#/fs/a');
  });
});

function findTransformation(t: DelegateTree): DelegateTree | undefined {
  if (t.kind === 'transformation') return t;
  if (t.kind === 'delegate') return findTransformation(t.tree);
  if (t.kind === 'alt') return t.trees.map(findTransformation).find((x) => x !== undefined);
  if (t.kind === 'union') return t.trees.map((w) => findTransformation(w.tree)).find((x) => x !== undefined);
  return undefined;
}

describe('delegation over live namers', () => {
  test('waits for pending addresses, then shows them', async () => {
    const dns = new Map<string, (ips: string[]) => void>();
    const slow = globalNamer({ resolver: (host) => new Promise((resolve) => dns.set(host, resolve)) });
    const i = configuredInterpreter({ kind: 'default', dtab: activityValue(readDtab('/svc=>/$/inet/web.example/80')), namers: [], transformers: [], global: slow });
    const settled = settleDelegation(i.delegate(Dtab.empty, readPath('/svc')), 5000);
    await new Promise((r) => setTimeout(r, 20));
    dns.get('web.example')!(['192.0.2.7']);
    const r = await settled;
    assert.equal(r.kind, 'ok');
    assert.match(JSON.stringify(r.kind === 'ok' && r.value), /"ip":"192\.0\.2\.7","port":80/);
  });

  test('gives up after the bound and shows pending addresses as pending', async () => {
    const never = globalNamer({ resolver: () => new Promise(() => {}) });
    const i = configuredInterpreter({ kind: 'default', dtab: activityValue(readDtab('/svc=>/$/inet/nowhere.example/80')), namers: [], transformers: [], global: never });
    const t0 = Date.now();
    const r = await settleDelegation(i.delegate(Dtab.empty, readPath('/svc')), 100);
    assert.ok(Date.now() - t0 < 2000);
    assert.match(JSON.stringify(r.kind === 'ok' && r.value), /"addr":\{"type":"pending"\}/);
  });

  test('a delegation whose namer stays pending comes back pending', async () => {
    const fs = handNamer('/#/fs');
    const r = await settleDelegation(interp([fs.configured], '/svc=>/#/fs').delegate(Dtab.empty, readPath('/svc/a')), 50);
    assert.equal(r.kind, 'pending');
  });
});

describe('binding cache', () => {
  test('is bounded: the least recently used binding is dropped and stops its watches', () => {
    const watched = new Set<string>();
    const namer: Namer = {
      lookup: (rest) =>
        asyncVar(PENDING as ActivityState<NameTree<Name>>, (update) => {
          watched.add(rest.show);
          update(ok(leafOf(`/#/fs${rest.show}`, 1)));
          return { close: () => void watched.delete(rest.show) };
        }),
    };
    const cache = new BindingCache(interp([{ kind: 'fs', prefix: readPath('/#/fs'), namer, transformers: [] }], '/svc=>/#/fs'), { max: 3 });
    for (let n = 0; n < 10; n++) cache.get(Dtab.empty, readPath(`/svc/s${n}`));
    assert.equal(cache.size, 3);
    assert.deepEqual([...watched].sort(), ['/s7', '/s8', '/s9']);
    cache.close();
    assert.equal(watched.size, 0);
  });

  test('the same dtab and path give the same binding; a failure after a good tree keeps the tree', () => {
    const fs = handNamer('/#/fs');
    const cache = new BindingCache(interp([fs.configured], '/svc=>/#/fs'));
    const a = cache.get(Dtab.empty, readPath('/svc/a'));
    assert.equal(cache.get(Dtab.empty, readPath('/svc/a')), a);
    fs.set('/a', ok(leafOf('/#/fs/a', 1)));
    fs.set('/a', failed(new Error('namer down')));
    assert.equal(show(a.sample()), '/#/fs/a');
    const [state] = cache.states();
    assert.equal(state!.state.kind, 'failed');
    cache.close();
  });

  test('idle bindings expire', async () => {
    const fs = handNamer('/#/fs');
    const cache = new BindingCache(interp([fs.configured], '/svc=>/#/fs'), { idleTtlMs: 30 });
    cache.get(Dtab.empty, readPath('/svc/a'));
    await new Promise((r) => setTimeout(r, 60));
    cache.purgeIdle();
    assert.equal(cache.size, 0);
    cache.close();
  });
});

describe('a dtab from a file', () => {
  test('a malformed edit keeps the last good dtab and reports the error', () => {
    const [text, set] = witness<string>();
    const dtab = dtabFromFile('/etc/dtab', text, SILENT_LOG);
    const w = watch(dtab);
    set(ok('/svc => /a'));
    set(ok('/svc => => /b'));
    assert.equal((w.last() as { value: Dtab }).value.show, '/svc=>/a');
    assert.match(dtabFileStatus(dtab)!.error!.message, /\/etc\/dtab: simple expected but '=' found/);
    set(ok('/svc => /c'));
    assert.equal((w.last() as { value: Dtab }).value.show, '/svc=>/c');
    assert.equal(dtabFileStatus(dtab)!.error, undefined);
    w.close();
  });

  test('before any good dtab, a bad or missing file fails binding with the reason', () => {
    const [text, set] = witness<string>();
    const dtab = dtabFromFile('/etc/dtab', text, SILENT_LOG);
    const w = watch(dtab);
    set(failed(new Error('ENOENT: no such file')));
    assert.match((w.last() as { error: Error }).error.message, /\/etc\/dtab: ENOENT/);
    const i = configuredInterpreter({ kind: 'io.l5d.fs', dtab, namers: [], transformers: [], global });
    assert.equal(show(i.bind(Dtab.empty, readPath('/svc')).sample()), 'failed: dtabFile: /etc/dtab: ENOENT: no such file');
    set(ok('/svc => /$/inet/127.1/80'));
    assert.equal(show(i.bind(Dtab.empty, readPath('/svc')).sample()), '/$/inet/127.1/80');
    w.close();
  });
});

describe('hostile namers', () => {
  test('a namer that throws gives a failed binding naming the error, and the process goes on', () => {
    let calls = 0;
    const throwing: ConfiguredNamer = {
      kind: 'bad',
      prefix: readPath('/#/bad'),
      transformers: [],
      namer: {
        lookup() {
          calls++;
          throw new TypeError('namer bug');
        },
      },
    };
    const i = interp([throwing], '/svc => /#/bad');
    assert.equal(show(i.bind(Dtab.empty, readPath('/svc/web')).sample()), 'failed: namer bug');
    assert.ok(calls > 0);
    // A fallback after a failing branch is not taken: failure is not "no such name".
    const j = interp([throwing], '/svc => /#/bad | /$/inet/127.1/80');
    assert.equal(show(j.bind(Dtab.empty, readPath('/svc/web')).sample()), 'failed: namer bug');
  });

  test('through the binding cache, a namer failing after a good answer keeps the good tree', () => {
    const fs = handNamer('/#/fs');
    const cache = new BindingCache(interp([fs.configured], '/svc => /#/fs'));
    const b = watch(cache.get(Dtab.empty, readPath('/svc/a')));
    fs.set('/a', ok(leafOf('/#/fs/a', 1)));
    fs.set('/a', failed(new Error('watch lost')));
    assert.equal(show(b.last()), '/#/fs/a');
    assert.match(show(cache.states()[0]!.state), /failed: watch lost/);
    b.close();
    cache.close();
  });

  test('a rewrite pattern that matches nothing is ~, and the dtab falls back', () => {
    const registry = new NamerRegistry([rewriteNamerKind as never], []);
    const env = { resolver: async () => [], log: SILENT_LOG, rescanIntervalMs: 1000, bindGlobal: globalBinder(global) };
    const rw = registry.namer({ kind: 'io.l5d.rewrite', prefix: '/rw', pattern: '/{svc}/api', name: '/$/inet/127.1/8080' }, 'namers[0]', env);
    const i = interp([rw], '/svc => /#/rw | /$/inet/127.1/9999');
    assert.equal(show(i.bind(Dtab.empty, readPath('/svc/web/api')).sample()), '/$/inet/127.1/8080');
    assert.equal(show(i.bind(Dtab.empty, readPath('/svc/web/other')).sample()), '/$/inet/127.1/9999 /web/other');
    assert.equal(show(i.bind(Dtab.empty, readPath('/svc')).sample()), '/$/inet/127.1/9999');
  });
});

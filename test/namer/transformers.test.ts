// Transformers as configured: ids prefixed with `/%/<kind>/...`, addresses rewritten or
// filtered live, fixed-path replacements, config errors, and the `transformation` steps of
// delegation trees.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Activity, activityValue, cell, ConfigError, constVar, SILENT_LOG, type Use, type Var } from '../../src/core/index.ts';
import {
  type Addr,
  Addr as A,
  address,
  BoundName,
  type Name,
  type NameTree,
  type Path,
  readDtab,
  readPath,
  showTree,
} from '../../src/dtab/index.ts';
import {
  configuredInterpreter,
  globalBinder,
  globalNamer,
  NamerRegistry,
  type Resolver,
  settleDelegation,
  type Transformer,
  transformerKinds,
} from '../../src/namer/index.ts';

const resolver: Resolver = async (host) => {
  if (host === 'egress.test') return ['192.0.2.50'];
  if (host === 'gone.test') throw new Error(`no such host ${host}`);
  return [];
};
const global = globalNamer({ resolver });
const registry = new NamerRegistry([], transformerKinds);
const env = { resolver, log: SILENT_LOG, rescanIntervalMs: 1000, bindGlobal: globalBinder(global) };

function transformer(config: Record<string, unknown>): Transformer {
  return registry.transformer(config, 'routers[0].interpreter.transformers[0]', env);
}

/** Reads Vars as a derived computation would, keeping them observed until `close`. */
function user(): { use: Use; close(): void } {
  const closables: { close(): void }[] = [];
  return {
    use: <U>(v: Var<U>): U => {
      let value!: U;
      closables.push(v.observe((x) => (value = x)));
      return value;
    },
    close: () => closables.forEach((c) => c.close()),
  };
}

function bound(id: string, ...hostPorts: string[]): BoundName {
  const addrs = hostPorts.map((hp) => {
    const [h, p] = hp.split(':');
    return address(h!, Number(p));
  });
  return new BoundName(constVar(A.bound(addrs)), readPath(id), readPath('/'));
}

function addrText(a: Addr): string {
  if (a.kind !== 'bound') return a.kind === 'failed' ? `failed: ${a.error.message}` : a.kind;
  return a.addrs.map((x) => `${x.host}:${x.port}`).sort().join(',');
}

function transformOne(t: Transformer, b: BoundName, use: Use): BoundName {
  const s = t.transform({ kind: 'leaf', value: b }, use);
  assert.equal(s.kind, 'ok');
  const tree = (s as { value: NameTree<BoundName> }).value;
  assert.equal(tree.kind, 'leaf');
  return (tree as { value: BoundName }).value;
}

/** Waits for the next macrotask turns (DNS answers here are promises). */
const settle = () => new Promise((r) => setTimeout(r, 5));

describe('io.l5d.port', () => {
  test('sends every address to the configured port and prefixes the id', () => {
    const t = transformer({ kind: 'io.l5d.port', port: 4141 });
    assert.equal(t.prefix.show, '/%/io.l5d.port/4141');
    const u = user();
    const out = transformOne(t, bound('/#/io.l5d.fs/web', '10.0.0.1:8080', '10.0.0.2:9090'), u.use);
    assert.equal(out.id.show, '/%/io.l5d.port/4141/#/io.l5d.fs/web');
    assert.equal(addrText(out.addr.sample()), '10.0.0.1:4141,10.0.0.2:4141');
    u.close();
  });

  test('a configured prefix replaces the default, and the same input gives the same name', () => {
    const t = transformer({ kind: 'io.l5d.port', port: 4141, prefix: '/peer' });
    const b = bound('/#/io.l5d.fs/web', '10.0.0.1:8080');
    const u = user();
    const first = transformOne(t, b, u.use);
    assert.equal(first.id.show, '/%/peer/#/io.l5d.fs/web');
    assert.equal(transformOne(t, b, u.use), first);
    u.close();
  });

  test('follows the original addresses as they change', () => {
    const t = transformer({ kind: 'io.l5d.port', port: 7000 });
    const source = cell<Addr>(A.pending);
    const out = transformOne(t, new BoundName(source, readPath('/#/x'), readPath('/')), user().use);
    const seen: string[] = [];
    const c = out.addr.observe((a) => seen.push(addrText(a)));
    source.update(A.bound([address('10.1.1.1', 80)]));
    source.update(A.bound([address('10.1.1.1', 81)])); // same after the port is rewritten
    source.update(A.neg);
    c.close();
    assert.deepEqual(seen, ['pending', '10.1.1.1:7000', 'neg']);
  });

  test('a missing or out-of-range port is a config error naming the key', () => {
    assert.throws(() => transformer({ kind: 'io.l5d.port' }), (e: unknown) => e instanceof ConfigError && /transformers\[0\]\.port/.test(e.message));
    assert.throws(() => transformer({ kind: 'io.l5d.port', port: 70000 }), /port/);
    assert.throws(() => transformer({ kind: 'io.l5d.port', port: 'http' }), /port/);
    assert.throws(() => transformer({ kind: 'io.l5d.port', port: 1, extra: true }), /extra/);
  });
});

describe('io.l5d.localhost and io.l5d.specificHost', () => {
  test('localhost keeps only addresses of this host; none left is neg', () => {
    const t = transformer({ kind: 'io.l5d.localhost' });
    assert.equal(t.name, 'SubnetLocalTransformer');
    const u = user();
    const kept = transformOne(t, bound('/#/io.l5d.fs/web', '127.0.0.1:8080', '192.0.2.9:8080'), u.use);
    assert.equal(kept.id.show, '/%/io.l5d.localhost/#/io.l5d.fs/web');
    assert.equal(addrText(kept.addr.sample()), '127.0.0.1:8080');
    const none = transformOne(t, bound('/#/io.l5d.fs/db', '192.0.2.9:5432'), u.use);
    assert.equal(none.addr.sample().kind, 'neg');
    u.close();
  });

  test('specificHost keeps the addresses of an IP literal', () => {
    const t = transformer({ kind: 'io.l5d.specificHost', host: '10.0.0.2' });
    const out = transformOne(t, bound('/#/svc', '10.0.0.1:80', '10.0.0.2:80', '10.0.0.2:81'), user().use);
    assert.equal(out.id.show, '/%/io.l5d.specificHost/#/svc');
    assert.equal(addrText(out.addr.sample()), '10.0.0.2:80,10.0.0.2:81');
  });

  test('specificHost resolves a host name; until then addresses are pending, and a failure shows', async () => {
    const t = transformer({ kind: 'io.l5d.specificHost', host: 'egress.test' });
    const out = transformOne(t, bound('/#/svc', '192.0.2.50:80', '10.0.0.1:80'), user().use);
    const seen: string[] = [];
    const c = out.addr.observe((a) => seen.push(addrText(a)));
    await settle();
    c.close();
    assert.deepEqual(seen, ['pending', '192.0.2.50:80']);

    const bad = transformOne(transformer({ kind: 'io.l5d.specificHost', host: 'gone.test' }), bound('/#/svc', '10.0.0.1:80'), user().use);
    const states: string[] = [];
    const c2 = bad.addr.observe((a) => states.push(addrText(a)));
    await settle();
    c2.close();
    assert.deepEqual(states, ['pending', 'failed: no such host gone.test']);
  });

  test('specificHost requires a host', () => {
    assert.throws(() => transformer({ kind: 'io.l5d.specificHost' }), /host/);
    assert.throws(() => transformer({ kind: 'io.l5d.specificHost', host: ' ' }), /host.*must not be empty/);
  });
});

describe('io.l5d.replace and io.l5d.const', () => {
  const tree = (use: Use, t: Transformer, input: NameTree<BoundName>) => {
    const s = t.transform(input, use);
    return s.kind === 'ok' ? showTree(s.value, (b) => b.id.show) : s.kind;
  };
  const web = { kind: 'leaf', value: bound('/#/io.l5d.fs/web', '10.0.0.1:80') } as const;

  test('replace swaps every bound leaf for the binding of the path, and keeps ~', () => {
    const t = transformer({ kind: 'io.l5d.replace', path: '/$/inet/127.1/4140' });
    const u = user();
    assert.equal(tree(u.use, t, web), '/%/io.l5d.replace/$/inet/127.1/4140');
    assert.equal(
      tree(u.use, t, { kind: 'union', trees: [{ weight: 1, tree: web }, { weight: 3, tree: { kind: 'neg' } }] }),
      '/%/io.l5d.replace/$/inet/127.1/4140 & 3.00*~',
    );
    assert.equal(tree(u.use, t, { kind: 'neg' }), '~');
    u.close();
  });

  test('const gives the binding of the path whatever was bound, ~ included', () => {
    const t = transformer({ kind: 'io.l5d.const', path: '/$/inet/127.1/4140' });
    const u = user();
    assert.equal(tree(u.use, t, { kind: 'neg' }), '/%/io.l5d.const/$/inet/127.1/4140');
    assert.equal(tree(u.use, t, web), '/%/io.l5d.const/$/inet/127.1/4140');
    u.close();
  });

  test('a replacement that resolves by DNS is pending first, then bound to its addresses', async () => {
    const t = transformer({ kind: 'io.l5d.replace', path: '/$/inet/egress.test/3128' });
    const u = user();
    const s = t.transform(web, u.use);
    assert.equal(s.kind, 'ok');
    const b = ((s as { value: NameTree<BoundName> }).value as { value: BoundName }).value;
    const seen: string[] = [];
    const c = b.addr.observe((a) => seen.push(addrText(a)));
    await settle();
    c.close();
    u.close();
    assert.deepEqual(seen, ['pending', '192.0.2.50:3128']);
  });

  test('path is required and must be a path', () => {
    assert.throws(() => transformer({ kind: 'io.l5d.replace' }), /path.*is required/);
    assert.throws(() => transformer({ kind: 'io.l5d.const', path: 'no-slash' }), /path.*not a path/);
  });
});

describe('transformers in an interpreter', () => {
  const fsLike = {
    kind: 'hand',
    prefix: readPath('/#/io.l5d.fs'),
    transformers: [],
    namer: {
      lookup: (rest: Path): Activity<NameTree<Name>> =>
        rest.show === '/web'
          ? activityValue<NameTree<Name>>({ kind: 'leaf', value: bound('/#/io.l5d.fs/web', '127.0.0.1:8080') })
          : activityValue({ kind: 'neg' }),
    },
  };

  test('applied in order, each prefixing the id of the one before', () => {
    const i = configuredInterpreter({
      kind: 'default',
      dtab: activityValue(readDtab('/svc=>/#/io.l5d.fs')),
      namers: [fsLike],
      transformers: [transformer({ kind: 'io.l5d.localhost' }), transformer({ kind: 'io.l5d.port', port: 4141 })],
      global,
    });
    const s = i.bind(readDtab(''), readPath('/svc/web')).sample();
    assert.equal(s.kind, 'ok');
    const b = ((s as { value: NameTree<BoundName> }).value as { value: BoundName }).value;
    assert.equal(b.id.show, '/%/io.l5d.port/4141/%/io.l5d.localhost/#/io.l5d.fs/web');
    assert.equal(addrText(b.addr.sample()), '127.0.0.1:4141');
  });

  test('delegation shows a transformation step with linkerd\'s names and the transformed leaf', async () => {
    const i = configuredInterpreter({
      kind: 'default',
      dtab: activityValue(readDtab('/svc=>/#/io.l5d.fs')),
      namers: [fsLike],
      transformers: [transformer({ kind: 'io.l5d.port', port: 4141 })],
      global,
    });
    const s = await settleDelegation(i.delegate(readDtab(''), readPath('/svc/web')), 1000);
    assert.equal(s.kind, 'ok');
    const json = (s as { value: unknown }).value;
    assert.deepEqual(json, {
      type: 'delegate',
      path: '/svc/web',
      delegate: {
        type: 'transformation',
        path: '/#/io.l5d.fs/web',
        // linkerd's transformation nodes carry no dentry; the leaf inside keeps it.
        name: 'DelegatingNameTreeTransformer$',
        bound: {
          addr: { type: 'bound', addrs: [{ ip: '127.0.0.1', port: 8080, meta: {} }], meta: {} },
          id: '/#/io.l5d.fs/web',
          path: '/',
        },
        tree: {
          type: 'leaf',
          path: '/%/io.l5d.port/4141/#/io.l5d.fs/web',
          dentry: { prefix: '/svc', dst: '/#/io.l5d.fs' },
          bound: {
            addr: { type: 'bound', addrs: [{ ip: '127.0.0.1', port: 4141, meta: {} }], meta: {} },
            id: '/%/io.l5d.port/4141/#/io.l5d.fs/web',
            path: '/',
          },
        },
      },
    });
  });

  test('an unknown or later transformer kind is named as such', () => {
    assert.throws(() => transformer({ kind: 'io.l5d.nope' }), /unknown transformer kind "io.l5d.nope"; known kinds: io.l5d.port/);
    assert.throws(() => transformer({ kind: 'io.l5d.k8s.daemonset' }), /io.l5d.k8s.daemonset is not supported yet/);
  });
});

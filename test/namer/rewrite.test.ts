// The io.l5d.rewrite namer: its configuration, its answers (linkerd's RewritingNamerTest and
// more), rewrites that do not read as paths, hostile names, and its use through a registry.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ActivityState, activityPending, ConfigError, ConfigReader, SILENT_LOG } from '../../src/core/index.ts';
import { type Name, type NameTree, Path, readPath } from '../../src/dtab/index.ts';
import type { Namer, NamerKind } from '../../src/namer/namer.ts';
import { type NamerEnv, NamerRegistry } from '../../src/namer/registry.ts';
import { rewriteNamerKind } from '../../src/namer/rewrite.ts';

const ctx = {
  prefix: readPath('/#/rewrite'),
  resolver: async () => [],
  log: SILENT_LOG,
  rescanIntervalMs: 1000,
};

function namer(pattern: string, name: string): Namer {
  return rewriteNamerKind.create(rewriteNamerKind.parseConfig(new ConfigReader({ pattern, name }, 'namers[0]')), ctx);
}

function state(n: Namer, path: string | Path): ActivityState<NameTree<Name>> {
  return n.lookup(typeof path === 'string' ? readPath(path) : path).sample();
}

/** The rewritten path shown, or `~`. */
function rewrite(n: Namer, path: string | Path): string {
  const s = state(n, path);
  assert.equal(s.kind, 'ok', `lookup is ${s.kind}`);
  const t = (s as { value: NameTree<Name> }).value;
  if (t.kind === 'neg') return '~';
  assert.equal(t.kind, 'leaf');
  const v = (t as { value: Name }).value;
  assert.ok(v instanceof Path, 'a rewrite is a path to look up again');
  return v.show;
}

function configError(raw: unknown, key: string, detail: RegExp): void {
  assert.throws(
    () => rewriteNamerKind.parseConfig(new ConfigReader(raw, 'namers[2]')),
    (e: unknown) => e instanceof ConfigError && e.at === `namers[2].${key}` && detail.test(e.detail),
  );
}

describe('io.l5d.rewrite: answers (linkerd RewritingNamerTest)', () => {
  test('matches a prefix', () => {
    assert.equal(rewrite(namer('/one/two', '/success'), '/one/two/three'), '/success');
  });
  test('matches a wildcard', () => {
    assert.equal(rewrite(namer('/one/*/three', '/success'), '/one/two/three'), '/success');
  });
  test('a mismatch is neg', () => {
    assert.equal(rewrite(namer('/one/*/four', '/success'), '/one/two/three'), '~');
  });
  test('captures and rewrites', () => {
    assert.equal(rewrite(namer('/{foo}/*/three', '/success/{foo}'), '/one/two/three'), '/success/one');
  });
  test('a failed capture is neg', () => {
    assert.equal(rewrite(namer('/{foo}/*/four', '/success/{foo}'), '/one/two/three'), '~');
  });
});

describe('io.l5d.rewrite: more answers', () => {
  test('partial captures, reused captures, and the rest of the path dropped', () => {
    const n = namer('/{service}.svc.cluster.local/{port}', '/#/io.l5d.k8s/default/{port}/{service}/{service}-canary');
    assert.equal(rewrite(n, '/web.svc.cluster.local/http/ignored'), '/#/io.l5d.k8s/default/http/web/web-canary');
    assert.equal(rewrite(n, '/web.svc.cluster/http'), '~');
    assert.equal(rewrite(n, '/web.svc.cluster.local'), '~');
  });
  test('escaped elements stay escaped through a rewrite', () => {
    const n = namer('/{a}', '/svc/{a}');
    assert.equal(rewrite(n, Path.of('a b')), '/svc/\\x61\\x20\\x62');
    assert.equal(rewrite(n, '/\\x00'), '/svc/\\x00');
  });
  test('a name with no captures, or the empty path, is allowed', () => {
    assert.equal(rewrite(namer('/', '/'), '/anything'), '/');
    assert.equal(rewrite(namer('', '/fixed'), '/'), '/fixed');
  });
  test('the same path gives the same Activity; a changed path a different one', () => {
    const n = namer('/{a}', '/svc/{a}');
    const a = n.lookup(readPath('/x'));
    assert.equal(n.lookup(readPath('/x')), a);
    assert.notEqual(n.lookup(readPath('/y')), a);
    // A constant answer: observing it gives the value at once and nothing more.
    const seen: string[] = [];
    n.lookup(readPath('/x')).observe((s) => seen.push(s.kind)).close();
    assert.deepEqual(seen, ['ok']);
  });
});

describe('io.l5d.rewrite: rewrites that are not paths', () => {
  test('an empty capture fails, naming the path, the text and the parse error', () => {
    const n = namer('/{a}.{b}', '/svc/{a}/{b}');
    assert.equal(rewrite(n, '/web.prod'), '/svc/web/prod');
    const s = state(n, '/web.');
    assert.equal(s.kind, 'failed');
    const error = (s as { error: Error }).error;
    assert.match(error.message, /^io\.l5d\.rewrite: \/web\. rewrites to "\/svc\/web\/", which is not a path: /);
    assert.ok(error.cause instanceof Error && error.message.endsWith(error.cause.message));
  });
  test('a failed rewrite keeps failing the same way', () => {
    const n = namer('/{a}{b}', '/x/{b}');
    assert.equal(n.lookup(readPath('/q')), n.lookup(readPath('/q')));
    assert.equal(state(n, '/q').kind, 'failed');
  });
});

describe('io.l5d.rewrite: hostile names', () => {
  test('10,000-character, escaped, unicode and long paths', () => {
    const n = namer('/{a}/{b}', '/svc/{b}/{a}');
    const long = 'z'.repeat(10_000);
    assert.equal(rewrite(n, `/${long}/y`), `/svc/y/${long}`);
    assert.equal(rewrite(n, Path.of('☃', '\u0000')), '/svc/\\x00/\\xe2\\x98\\x83');
    assert.equal(rewrite(n, '/\\xff\\xfe/%'), '/svc/%/\\xff\\xfe');
    assert.equal(rewrite(n, new Path(Array.from({ length: 10_000 }, (_, i) => `e${i}`))), '/svc/e1/e0');
    assert.equal(rewrite(n, '/only'), '~');
    assert.equal(rewrite(n, '/'), '~');
  });
  test('a flood of distinct names is answered, not remembered without bound', () => {
    const n = namer('/{a}', '/svc/{a}');
    const first = n.lookup(readPath('/n0'));
    for (let i = 1; i < 30_000; i++) assert.equal(state(n, `/n${i}`).kind, 'ok');
    // Forgotten by now, and rebuilt equal.
    const again = n.lookup(readPath('/n0'));
    assert.notEqual(again, first);
    assert.deepEqual(again.sample(), first.sample());
  });
});

describe('io.l5d.rewrite: configuration', () => {
  test('kind and the required prefix', () => {
    assert.equal(rewriteNamerKind.kind, 'io.l5d.rewrite');
    assert.equal(rewriteNamerKind.defaultPrefix, undefined);
  });
  test('pattern and name are required strings', () => {
    configError({ name: '/x' }, 'pattern', /is required/);
    configError({ pattern: '/x' }, 'name', /is required/);
    configError({ pattern: ['/x'], name: '/x' }, 'pattern', /expected a string/);
    configError({ pattern: '/x', name: { path: '/x' } }, 'name', /expected a string/);
  });
  test('a pattern that could never match is refused, naming the key', () => {
    configError({ pattern: '/{a-b}', name: '/x' }, 'pattern', /brace outside a capture/);
    configError({ pattern: '/a//b', name: '/x' }, 'pattern', /empty segment/);
    configError({ pattern: '/{a}*', name: '/x/{a}' }, 'pattern', /can never match/);
    configError({ pattern: '/{a', name: '/x' }, 'pattern', /bad path pattern "\/\{a"/);
  });
  test('a name using a capture the pattern lacks is refused', () => {
    configError({ pattern: '/{a}', name: '/x/{b}' }, 'name', /^\{b\} is not captured by the pattern \(it captures \{a\}\)$/);
    configError({ pattern: '/a', name: '/x/{b}' }, 'name', /it captures none/);
    configError({ pattern: '/{a}', name: '/x/{}' }, 'name', /\{\} is not captured/);
  });
  test('a name that cannot read as a path is refused', () => {
    configError({ pattern: '/{a}', name: 'svc/{a}' }, 'name', /is not a path with its captures filled in/);
    configError({ pattern: '/{a}', name: '/svc/{a} | /b' }, 'name', /is not a path/);
    configError({ pattern: '/{a}', name: '' }, 'name', /is not a path/);
    configError({ pattern: '/{a}', name: `/${'\u0000'}` }, 'name', /is not a path/);
  });
  test('parseConfig reads only pattern and name', () => {
    const config = new ConfigReader({ pattern: '/{a}', name: '/b/{a}', extra: 1 }, 'n');
    rewriteNamerKind.parseConfig(config);
    assert.throws(() => config.done(), (e: unknown) => e instanceof ConfigError && e.at === 'n.extra');
  });
  test('through a registry: the prefix is required, and lookups go through the prefix', () => {
    const registry = new NamerRegistry([rewriteNamerKind] as NamerKind<unknown>[], []);
    const env: NamerEnv = {
      resolver: async () => [],
      log: SILENT_LOG,
      rescanIntervalMs: 1000,
      bindGlobal: () => activityPending(),
    };
    assert.throws(
      () => registry.namer({ kind: 'io.l5d.rewrite', pattern: '/{a}', name: '/b/{a}' }, 'namers[0]', env),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message === "namers[0].prefix: The 'prefix' property is required for the io.l5d.rewrite namer.",
    );
    const raw = { kind: 'io.l5d.rewrite', prefix: '/rw', pattern: '/{a}', name: '/b/{a}' };
    const configured = registry.namer(raw, 'namers[0]', env);
    assert.equal(configured.prefix.show, '/#/rw');
    assert.equal(rewrite(configured.namer, '/web/x'), '/b/web');
  });
});

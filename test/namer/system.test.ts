// linkerd's bundled `/$/` namers: io.buoyant.rinet (binds) and the rewriting ones
// (io.buoyant.hostportPfx, porthostPfx, io.buoyant.http.*), alone, with hostile names, and
// through a dtab with bind and delegate.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ActivityState } from '../../src/core/index.ts';
import {
  type AddrBound,
  bind,
  BoundName,
  type DelegateTree,
  delegate,
  dtabLookup,
  type Name,
  type NameTree,
  Path,
  readDtab,
  readPath,
} from '../../src/dtab/index.ts';
import { globalNamer } from '../../src/namer/global.ts';
import type { Resolver } from '../../src/namer/inet.ts';
import { systemNamers } from '../../src/namer/system/index.ts';

/** Stub DNS: `*.example` hosts resolve to two documentation addresses; others do not exist. */
const lookedUp: string[] = [];
const resolver: Resolver = async (host) => {
  lookedUp.push(host);
  if (host.endsWith('.example')) return ['192.0.2.10', '192.0.2.11'];
  throw new Error(`no such host ${host}`);
};

const kinds = systemNamers(resolver);
const global = globalNamer({ resolver, systemNamers: kinds });

function lookup(path: string | Path): ActivityState<NameTree<Name>> {
  return global(typeof path === 'string' ? readPath(path) : path);
}

/** The path a rewriting namer gives for `path`, shown; `~` for neg. Fails on anything else. */
function rewrite(path: string | Path): string {
  const r = lookup(path);
  assert.equal(r.kind, 'ok', `lookup is ${r.kind}`);
  const t = (r as { value: NameTree<Name> }).value;
  if (t.kind === 'neg') return '~';
  assert.equal(t.kind, 'leaf', `tree is ${t.kind}`);
  const v = (t as { value: Name }).value;
  assert.ok(v instanceof Path, 'a rewriting namer answers a path, not a bound name');
  return v.show;
}

function boundName(path: string | Path): BoundName {
  const r = lookup(path);
  assert.equal(r.kind, 'ok', `lookup is ${r.kind}`);
  const t = (r as { value: NameTree<Name> }).value;
  assert.equal(t.kind, 'leaf');
  const v = (t as { value: Name }).value;
  assert.ok(v instanceof BoundName);
  return v;
}

function failure(path: string): string {
  const r = lookup(path);
  assert.equal(r.kind, 'failed', `lookup is ${r.kind}`);
  return (r as { error: Error }).error.message;
}

const tick = () => new Promise((r) => setImmediate(r));
const LONG = 'a'.repeat(10_000);

describe('systemNamers', () => {
  test('every bundled namer is keyed by its linkerd class name', () => {
    assert.deepEqual([...kinds.keys()].sort(), [
      'io.buoyant.hostportPfx',
      'io.buoyant.http.anyHost',
      'io.buoyant.http.anyHostPfx',
      'io.buoyant.http.anyMethod',
      'io.buoyant.http.anyMethodPfx',
      'io.buoyant.http.domainToPath',
      'io.buoyant.http.domainToPathPfx',
      'io.buoyant.http.subdomainOf',
      'io.buoyant.http.subdomainOfPfx',
      'io.buoyant.porthostPfx',
      'io.buoyant.rinet',
    ]);
  });
  test('every rewriting namer answers neg for an empty name, and never throws on odd ones', () => {
    const odd = ['/\\x00', '/\\xff\\xfe', `/${LONG}`, '/\\xe2\\x98\\x83', '/a/b/c/d/e', '/:', '/.', '/-'];
    for (const kind of kinds.keys()) {
      if (kind === 'io.buoyant.rinet') continue;
      assert.equal(rewrite(`/$/${kind}`), '~', kind);
      for (const rest of odd) assert.doesNotThrow(() => lookup(`/$/${kind}${rest}`), `${kind}${rest}`);
    }
  });
});

describe('/$/io.buoyant.rinet', () => {
  test('binds port then host, with the rest as residual (linkerd RinetTest)', async () => {
    const b = boundName('/$/io.buoyant.rinet/12345/web.example/residual/x');
    assert.equal(b.id.show, '/$/io.buoyant.rinet/12345/web.example');
    assert.equal(b.residual.show, '/residual/x');
    const seen: string[] = [];
    const sub = b.addr.observe((a) => seen.push(a.kind));
    await tick();
    sub.close();
    assert.deepEqual(seen, ['pending', 'bound']);
  });
  test('an IP literal is bound at once, and the same name gives the same bound name', () => {
    const b = boundName('/$/io.buoyant.rinet/8080/127.1');
    assert.equal(b.id.show, '/$/io.buoyant.rinet/8080/127.1');
    assert.equal(b.residual.show, '/');
    const a = b.addr.sample() as AddrBound;
    assert.deepEqual(
      a.addrs.map((x) => `${x.host}:${x.port}`),
      ['127.0.0.1:8080'],
    );
    assert.equal(boundName('/$/io.buoyant.rinet/8080/127.1'), b);
    assert.equal(boundName('/$/io.buoyant.rinet/8080/127.1/r').addr, b.addr, 'one address source per host and port');
  });
  test('fewer than two elements is neg', () => {
    assert.equal(rewrite('/$/io.buoyant.rinet'), '~');
    assert.equal(rewrite('/$/io.buoyant.rinet/8080'), '~');
  });
  test('a port that is not an integer, or out of range, fails as Java does', () => {
    assert.equal(failure('/$/io.buoyant.rinet/http/web.example'), 'For input string: "http"');
    assert.equal(failure('/$/io.buoyant.rinet/8080.0/web.example'), 'For input string: "8080.0"');
    assert.equal(failure('/$/io.buoyant.rinet/99999999999/web.example'), 'For input string: "99999999999"');
    assert.equal(failure('/$/io.buoyant.rinet/70000/web.example'), 'port out of range:70000');
    assert.equal(failure('/$/io.buoyant.rinet/-1/web.example'), 'port out of range:-1');
    assert.equal(failure('/$/io.buoyant.rinet/\\x00/web.example'), 'For input string: "\\u0000"');
    // Java's parseInt takes a sign and leading zeros; the id keeps the text as written.
    const signed = boundName('/$/io.buoyant.rinet/\\x2b080/127.0.0.1');
    assert.deepEqual((signed.addr.sample() as AddrBound).addrs.map((x) => x.port), [80]);
    assert.equal(signed.id.show, '/$/io.buoyant.rinet/\\x2b\\x30\\x38\\x30/127.0.0.1');
  });
  test('a host DNS cannot resolve is a failed address, not a failed lookup', async () => {
    const b = boundName('/$/io.buoyant.rinet/80/nowhere.invalid');
    const sub = b.addr.observe(() => {});
    await tick();
    assert.equal(b.addr.sample().kind, 'failed');
    sub.close();
  });
  test('hostile hosts are handed to the resolver as text, never thrown', async () => {
    lookedUp.length = 0;
    for (const host of [LONG, '\\x00', '\\xe2\\x98\\x83']) {
      const b = boundName(`/$/io.buoyant.rinet/80/${host}`);
      const sub = b.addr.observe(() => {});
      await tick();
      assert.equal(b.addr.sample().kind, 'failed');
      sub.close();
    }
    assert.deepEqual(lookedUp, [LONG, '\u0000', '☃']);
  });
});

describe('/$/io.buoyant.hostportPfx and porthostPfx', () => {
  test('split host:port (linkerd HostPortTest)', () => {
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/ia/127.1:8080/etc'), '/ia/127.1/8080/etc');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/ia/google.com:8180/etc'), '/ia/google.com/8180/etc');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/ia/google.com:http/etc'), '/ia/google.com/http/etc');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/ia/127.1:http/etc'), '/ia/127.1/http/etc');
    assert.equal(rewrite('/$/io.buoyant.porthostPfx/ia/127.1:8080/etc'), '/ia/8080/127.1/etc');
    assert.equal(rewrite('/$/io.buoyant.porthostPfx/ia/127.1:http/etc'), '/ia/http/127.1/etc');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/ia/google.com:8180:abcdef/etc'), '~');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/ia/google.com:http:abcdef/etc'), '~');
  });
  test('without residual, and with a long residual kept as it is', () => {
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/inet/web:80'), '/inet/web/80');
    assert.equal(rewrite('/$/io.buoyant.porthostPfx/p/web:80/a/\\x00/c'), '/p/80/web/a/\\x00/c');
  });
  test('the port must be a DNS label of at most 63 characters', () => {
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p/web:HTTP'), '~');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p/web:-80'), '~');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p/web:8_0'), '~');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p/web:80-'), '/p/web/80-', 'a trailing "-" passes, as in linkerd');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p/web:a-b'), '/p/web/a-b');
    assert.equal(rewrite(`/$/io.buoyant.hostportPfx/p/web:${'p'.repeat(63)}`), `/p/web/${'p'.repeat(63)}`);
    assert.equal(rewrite(`/$/io.buoyant.hostportPfx/p/web:${'p'.repeat(64)}`), '~');
    assert.equal(rewrite(`/$/io.buoyant.hostportPfx/p/web:${LONG}`), '~');
  });
  test('parts are split as Java splits: trailing empty parts dropped, leading ones kept', () => {
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p/web:80:'), '/p/web/80');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p/web:80::'), '/p/web/80');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p/web:'), '~');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p/web'), '~');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p/:'), '~');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p/::'), '~');
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p/web::80'), '~');
    // `:80` splits into an empty host, which would be an empty element.
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p/:80'), '~');
    assert.equal(rewrite('/$/io.buoyant.porthostPfx/p/:80/x'), '~');
  });
  test('fewer than two elements is neg', () => {
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/p'), '~');
    assert.equal(rewrite('/$/io.buoyant.porthostPfx/web:80'), '~');
  });
  test('the host is any text: escaped, long, unicode', () => {
    assert.equal(rewrite(Path.of('$', 'io.buoyant.hostportPfx', 'p', 'h st:80')), '/p/\\x68\\x20\\x73\\x74/80');
    assert.equal(rewrite(Path.of('$', 'io.buoyant.hostportPfx', 'p', '\u0000:80')), '/p/\\x00/80');
    assert.equal(rewrite(Path.of('$', 'io.buoyant.porthostPfx', 'p', 'wéb:80')), '/p/80/\\x77\\xc3\\xa9\\x62');
    assert.equal(rewrite(`/$/io.buoyant.hostportPfx/p/${LONG}:80`), `/p/${LONG}/80`);
    // Elements go through text as in linkerd: a byte that is not UTF-8 becomes U+FFFD.
    assert.equal(rewrite('/$/io.buoyant.hostportPfx/\\xff/h:80'), '/\\xef\\xbf\\xbd/h/80');
  });
});

describe('/$/io.buoyant.http.anyMethod and anyMethodPfx', () => {
  test('drop an upper-case method element', () => {
    assert.equal(rewrite('/$/io.buoyant.http.anyMethod/POST/svc/name'), '/svc/name');
    assert.equal(rewrite('/$/io.buoyant.http.anyMethod/GET'), '/');
    assert.equal(rewrite('/$/io.buoyant.http.anyMethodPfx/pfx/DELETE/svc/name'), '/pfx/svc/name');
    assert.equal(rewrite('/$/io.buoyant.http.anyMethodPfx/pfx/GET'), '/pfx');
  });
  test('anything but A-Z letters is not a method', () => {
    for (const m of ['get', 'Get', 'GET1', 'GET-X', 'M\\xc3\\x89', '\\x00', '\\x47\\x45\\x54\\x0a']) {
      assert.equal(rewrite(`/$/io.buoyant.http.anyMethod/${m}/x`), '~', m);
      assert.equal(rewrite(`/$/io.buoyant.http.anyMethodPfx/p/${m}/x`), '~', m);
    }
    assert.equal(rewrite(`/$/io.buoyant.http.anyMethod/${'A'.repeat(10_000)}/x`), '/x');
  });
  test('the prefix namer needs two elements', () => {
    assert.equal(rewrite('/$/io.buoyant.http.anyMethodPfx/GET'), '~');
  });
});

describe('/$/io.buoyant.http.anyHost and anyHostPfx', () => {
  test('drop a host element', () => {
    assert.equal(rewrite('/$/io.buoyant.http.anyHost/foo.buoyant.io/resource/name'), '/resource/name');
    assert.equal(rewrite('/$/io.buoyant.http.anyHost/127.0.0.1:8080'), '/');
    assert.equal(rewrite('/$/io.buoyant.http.anyHost/::1/x'), '/x');
    assert.equal(rewrite('/$/io.buoyant.http.anyHostPfx/pfx/foo.buoyant.io/resource'), '/pfx/resource');
    assert.equal(rewrite('/$/io.buoyant.http.anyHostPfx/pfx/web_1-a'), '/pfx');
  });
  test('only letters, digits and ".:_-" make a host', () => {
    for (const h of ['a#b', 'a$b', 'a%b', '\\x20', 'h\\xc3\\xa9']) {
      assert.equal(rewrite(`/$/io.buoyant.http.anyHost/${h}/x`), '~', h);
      assert.equal(rewrite(`/$/io.buoyant.http.anyHostPfx/p/${h}/x`), '~', h);
    }
    assert.equal(rewrite(`/$/io.buoyant.http.anyHost/${LONG}/x`), '/x');
    assert.equal(rewrite('/$/io.buoyant.http.anyHostPfx/web'), '~');
  });
});

describe('/$/io.buoyant.http.subdomainOf and subdomainOfPfx', () => {
  test('keep what precedes the domain', () => {
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOf/buoyant.io/foo.buoyant.io/resource/name'), '/foo/resource/name');
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOf/buoyant.io/a.b.buoyant.io'), '/a.b');
    assert.equal(
      rewrite('/$/io.buoyant.http.subdomainOfPfx/buoyant.io/pfx/foo.buoyant.io/resource/name'),
      '/pfx/foo/resource/name',
    );
  });
  test('a :port is dropped first, unless the host starts with ":"', () => {
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOf/buoyant.io/foo.buoyant.io:8080/x'), '/foo/x');
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOf/buoyant.io/foo.buoyant.io:8080:9/x'), '/foo/x');
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOf/io:80/:x.io:80/y'), '/:x/y');
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOfPfx/buoyant.io/p/foo.buoyant.io:80'), '/p/foo');
  });
  test('not a subdomain, the domain itself, or an empty subdomain is neg', () => {
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOf/buoyant.io/foo.example.com/x'), '~');
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOf/buoyant.io/buoyant.io/x'), '~');
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOf/buoyant.io/.buoyant.io/x'), '~');
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOf/buoyant.io/foobuoyant.io/x'), '~');
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOfPfx/buoyant.io/p/buoyant.io:80'), '~');
  });
  test('domain and host must both look like hosts; the prefix need not', () => {
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOf/b#c/a.b#c/x'), '~');
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOf/io/a\\x20b.io/x'), '~');
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOfPfx/io/\\x20/a.io/x'), '/\\x20/a/x');
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOfPfx/io/#/a.io'), '/#/a');
  });
  test('too few elements is neg; long labels pass', () => {
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOf/buoyant.io'), '~');
    assert.equal(rewrite('/$/io.buoyant.http.subdomainOfPfx/buoyant.io/p'), '~');
    assert.equal(rewrite(`/$/io.buoyant.http.subdomainOf/io/${LONG}.io/x`), `/${LONG}/x`);
    assert.equal(rewrite(`/$/io.buoyant.http.subdomainOf/${LONG}/a.${LONG}`), '/a');
  });
});

describe('/$/io.buoyant.http.domainToPath and domainToPathPfx', () => {
  test('reverse the labels of a host', () => {
    assert.equal(rewrite('/$/io.buoyant.http.domainToPath/foo.buoyant.io/resource/name'), '/io/buoyant/foo/resource/name');
    assert.equal(rewrite('/$/io.buoyant.http.domainToPath/localhost'), '/localhost');
    assert.equal(
      rewrite('/$/io.buoyant.http.domainToPathPfx/pfx/foo.buoyant.io/resource/name'),
      '/pfx/io/buoyant/foo/resource/name',
    );
  });
  test('a :port stays on its label', () => {
    assert.equal(rewrite('/$/io.buoyant.http.domainToPath/a.b.c:8080/x'), '/c:8080/b/a/x');
    assert.equal(rewrite('/$/io.buoyant.http.domainToPathPfx/p/web:80'), '/p/web:80');
    assert.equal(rewrite('/$/io.buoyant.http.domainToPath/:80'), '/:80');
  });
  test('split as Java splits: trailing dots vanish, leading or doubled ones give no path', () => {
    assert.equal(rewrite('/$/io.buoyant.http.domainToPath/a.b./x'), '/b/a/x');
    assert.equal(rewrite('/$/io.buoyant.http.domainToPath/a.b../x'), '/b/a/x');
    assert.equal(rewrite('/$/io.buoyant.http.domainToPath/.a/x'), '~');
    assert.equal(rewrite('/$/io.buoyant.http.domainToPath/..a/x'), '~');
    assert.equal(rewrite('/$/io.buoyant.http.domainToPath/a..b/x'), '~');
    assert.equal(rewrite('/$/io.buoyant.http.domainToPathPfx/p/a..b'), '~');
    // Only dots: Java's split gives no labels at all, so nothing is added.
    assert.equal(rewrite('/$/io.buoyant.http.domainToPath/./x'), '/x');
    assert.equal(rewrite('/$/io.buoyant.http.domainToPathPfx/p/...'), '/p');
  });
  test('hostile hosts: not host-like is neg; long ones are reversed', () => {
    for (const h of ['\\x00', 'a.b\\x00', 'h\\xc3\\xa9.com', '\\xff']) {
      assert.equal(rewrite(`/$/io.buoyant.http.domainToPath/${h}/x`), '~', h);
      assert.equal(rewrite(`/$/io.buoyant.http.domainToPathPfx/p/${h}/x`), '~', h);
    }
    const labels = Array.from({ length: 2000 }, (_, i) => `l${i}`);
    assert.equal(rewrite(`/$/io.buoyant.http.domainToPath/${labels.join('.')}`), `/${labels.reverse().join('/')}`);
    assert.equal(rewrite(`/$/io.buoyant.http.domainToPath/${LONG}.com`), `/com/${LONG}`);
    assert.equal(rewrite('/$/io.buoyant.http.domainToPathPfx/web'), '~');
  });
});

describe('through a dtab', () => {
  const dtab = readDtab(
    '/svc => /$/io.buoyant.http.domainToPathPfx/dom;' +
      '/dom/com/example => /$/inet/127.1/8080;' +
      '/hp => /$/io.buoyant.hostportPfx/inet;' +
      '/inet => /$/inet;' +
      '/r => /$/io.buoyant.rinet/9090;' +
      '/m => /$/io.buoyant.http.anyMethodPfx/svc',
  );
  const dtabbed = dtabLookup(dtab, global);

  function bound(path: string): BoundName {
    const r = bind({ kind: 'leaf', value: readPath(path) }, dtabbed);
    assert.equal(r.kind, 'ok', `bind is ${r.kind}`);
    const t = (r as { value: NameTree<BoundName> }).value;
    assert.equal(t.kind, 'leaf', `bound tree is ${t.kind}`);
    return (t as { value: BoundName }).value;
  }

  test('domainToPathPfx rewrites the host into the dtab it came from', () => {
    const b = bound('/svc/example.com/api/v1');
    assert.equal(b.id.show, '/$/inet/127.1/8080');
    assert.equal(b.residual.show, '/api/v1');
    const m = bound('/m/GET/example.com/x');
    assert.equal(m.id.show, '/$/inet/127.1/8080');
    assert.equal(m.residual.show, '/x');
  });
  test('a host the dtab does not know is neg', () => {
    const r = bind({ kind: 'leaf', value: readPath('/svc/example.org') }, dtabbed);
    assert.deepEqual(r, { kind: 'ok', value: { kind: 'neg' } });
    const bad = bind({ kind: 'leaf', value: readPath('/svc/..example.com') }, dtabbed);
    assert.deepEqual(bad, { kind: 'ok', value: { kind: 'neg' } });
  });
  test('hostportPfx then /$/inet, and rinet with the port in the dtab', () => {
    const b = bound('/hp/10.0.0.1:8080/rest');
    assert.equal(b.id.show, '/$/inet/10.0.0.1/8080');
    assert.equal(b.residual.show, '/rest');
    const r = bound('/r/web.example/rest');
    assert.equal(r.id.show, '/$/io.buoyant.rinet/9090/web.example');
    assert.equal(r.residual.show, '/rest');
  });
  test('a failing system namer fails the binding', () => {
    const r = bind({ kind: 'leaf', value: readPath('/hp/web:http') }, dtabbed);
    assert.equal(r.kind === 'failed' && r.error.message, 'Unknown namer: inet for path: /$/inet/web/http');
  });
  test('delegate shows each dtab rule, a system rewrite folded into the step after it', () => {
    const r = delegate(dtab, readPath('/svc/example.com/api'), global);
    assert.equal(r.kind, 'ok');
    const steps: string[] = [];
    let node = (r as { value: DelegateTree }).value;
    for (;;) {
      const rule = steps.length > 0 && 'dentry' in node ? ` (${node.dentry.show})` : '';
      steps.push(`${node.kind} ${node.path.show}${rule}`);
      if (node.kind !== 'delegate') break;
      node = node.tree;
    }
    // Simplified as linkerd simplifies: a namer's answer is not a step of its own.
    assert.deepEqual(steps, [
      'delegate /svc/example.com/api',
      'delegate /dom/com/example/api (/svc=>/$/io.buoyant.http.domainToPathPfx/dom)',
      'leaf /$/inet/127.1/8080/api (/dom/com/example=>/$/inet/127.1/8080)',
    ]);
    assert.equal(node.kind === 'leaf' && node.value.id.show, '/$/inet/127.1/8080');
  });
});

// Identifiers name requests byte for byte as linkerd does (spec/linkerd.md §2), and say why
// when they cannot.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/core/index.ts';
import { readPath } from '../../src/dtab/index.ts';
import { identifierFromConfig, type IdentifyRequest } from '../../src/proxy/index.ts';

const SVC = readPath('/svc');

function req(method: string, uri: string, headers: Record<string, string> = {}, httpVersion = '1.1'): IdentifyRequest {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, uri, httpVersion, header: (n) => lower[n] };
}

function name(config: unknown, r: IdentifyRequest, prefix = SVC): string {
  const id = identifierFromConfig(config, 'routers[0].identifier', prefix)(r);
  return id.kind === 'identified' ? id.path.show + (id.uri === undefined ? '' : ` uri=${id.uri}`) : `unidentified: ${id.reason}`;
}

describe('io.l5d.header.token (the default)', () => {
  test('the Host header verbatim as one element, port and case kept', () => {
    assert.equal(name(undefined, req('GET', '/', { Host: 'web:8080' })), '/svc/web:8080');
    assert.equal(name(undefined, req('GET', '/', { Host: 'Web.Example' })), '/svc/Web.Example');
    assert.equal(name({ kind: 'io.l5d.header.token' }, req('GET', '/', { Host: 'a b/c' })), '/svc/\\x61\\x20\\x62\\x2f\\x63'); // Finagle escapes every byte of such an element
  });
  test('another header, and another dstPrefix', () => {
    assert.equal(name({ kind: 'io.l5d.header.token', header: 'X-Service' }, req('GET', '/', { 'x-service': 'api' }), readPath('/http/1.1')), '/http/1.1/api');
  });
  test('a missing or empty header does not identify', () => {
    assert.equal(name(undefined, req('GET', '/')), 'unidentified: Host header is absent');
    assert.equal(name({ kind: 'io.l5d.header.token', header: 'X-Service' }, req('GET', '/', { 'x-service': '' })), 'unidentified: X-Service header is absent');
  });
});

describe('io.l5d.methodAndHost', () => {
  const mh = { kind: 'io.l5d.methodAndHost' };
  test('HTTP/1.1: version, method, host lower-cased', () => {
    assert.equal(name(mh, req('GET', '/a/b?x=1', { Host: 'Web:8080' })), '/svc/1.1/GET/web:8080');
  });
  test('HTTP/1.0 has no host', () => {
    assert.equal(name(mh, req('POST', '/a', {}, '1.0')), '/svc/1.0/POST');
  });
  test('httpUriInDst appends the path, not the query', () => {
    const cfg = { ...mh, httpUriInDst: true };
    assert.equal(name(cfg, req('GET', '/a/b?x=1', { Host: 'web' })), '/svc/1.1/GET/web/a/b');
    assert.equal(name(cfg, req('GET', '/', { Host: 'web' })), '/svc/1.1/GET/web');
    assert.match(name(cfg, req('GET', '/a//b', { Host: 'web' })), /^unidentified: /);
  });
  test('HTTP/1.1 without Host does not identify', () => {
    assert.equal(name(mh, req('GET', '/')), 'unidentified: HTTP/1.1 request missing hostname');
  });
});

describe('io.l5d.path', () => {
  test('the first segments; too few do not identify', () => {
    assert.equal(name({ kind: 'io.l5d.path' }, req('GET', '/users/42?x')), '/svc/users');
    assert.equal(name({ kind: 'io.l5d.path', segments: 2 }, req('GET', '/users/42/')), '/svc/users/42');
    assert.equal(name({ kind: 'io.l5d.path', segments: 2 }, req('GET', '/users/')), 'unidentified: not enough segments in path');
    assert.equal(name({ kind: 'io.l5d.path' }, req('GET', '/')), 'unidentified: not enough segments in path');
    assert.equal(name({ kind: 'io.l5d.path' }, req('GET', '//x')), 'unidentified: empty segment in path');
  });
  test('consume strips the segments, keeping the query and a trailing slash', () => {
    const c = { kind: 'io.l5d.path', segments: 1, consume: true };
    assert.equal(name(c, req('GET', '/users/42?x=1')), '/svc/users uri=/42?x=1');
    assert.equal(name(c, req('GET', '/users/42/')), '/svc/users uri=/42/');
    assert.equal(name(c, req('GET', '/users')), '/svc/users uri=/');
    assert.equal(name(c, req('GET', '/users/?q')), '/svc/users uri=/?q');
  });
});

describe('io.l5d.header and io.l5d.static', () => {
  test('io.l5d.header reads its header as a path', () => {
    assert.equal(name({ kind: 'io.l5d.header' }, req('GET', '/', { 'l5d-name': '/a/b' })), '/svc/a/b');
    assert.equal(name({ kind: 'io.l5d.header', header: 'my-header' }, req('GET', '/', { 'my-header': '/x' })), '/svc/x');
    assert.equal(name({ kind: 'io.l5d.header' }, req('GET', '/')), 'unidentified: l5d-name header is absent');
    assert.match(name({ kind: 'io.l5d.header' }, req('GET', '/', { 'l5d-name': 'not a path' })), /^unidentified: '\/' expected but 'n' found/);
  });
  test('io.l5d.static names every request the same', () => {
    assert.equal(name({ kind: 'io.l5d.static', path: '/web' }, req('GET', '/x')), '/svc/web');
  });
});

describe('lists and config errors', () => {
  test('a list is tried in order; when none identifies, the last reason is given', () => {
    const list = [{ kind: 'io.l5d.header', header: 'x-route' }, { kind: 'io.l5d.header.token' }];
    assert.equal(name(list, req('GET', '/', { 'x-route': '/a', host: 'h' })), '/svc/a');
    assert.equal(name(list, req('GET', '/', { host: 'h' })), '/svc/h');
    assert.equal(name(list, req('GET', '/')), 'unidentified: Host header is absent');
  });
  test('errors name the key path', () => {
    const at = (raw: unknown) => {
      try {
        identifierFromConfig(raw, 'routers[0].identifier', SVC);
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.message;
      }
      assert.fail('no error');
    };
    assert.match(at({ kind: 'io.l5d.nope' }), /routers\[0\]\.identifier\.kind: unknown identifier kind "io.l5d.nope"/);
    assert.match(at({ kind: 'io.l5d.ingress' }), /io.l5d.ingress is not supported yet/);
    assert.match(at([{ kind: 'io.l5d.path', segments: 0 }]), /routers\[0\]\.identifier\[0\]\.segments/);
    assert.match(at({ kind: 'io.l5d.static' }), /path: is required/);
    assert.match(at({ kind: 'io.l5d.path', extra: 1 }), /extra/);
    assert.match(at([]), /must not be empty/);
    assert.match(at({}), /kind: is required/);
  });
});

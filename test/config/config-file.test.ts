// Reading linkerd config files: YAML and JSON, errors placed at their line, and the naming
// part of a router (namers, dtab, interpreter) built from them.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigFileError, parseConfigText, routerNaming } from '../../src/config/index.ts';

const resolver = async (): Promise<string[]> => ['192.0.2.1'];

function naming(text: string, label?: string) {
  return routerNaming(parseConfigText(text, 'l5d.yaml'), label, { resolver });
}

function failure(text: string, label?: string): ConfigFileError {
  try {
    naming(text, label);
  } catch (e) {
    if (e instanceof ConfigFileError) return e;
    throw e;
  }
  assert.fail('expected a config error');
}

describe('config files', () => {
  test('YAML syntax errors name the line', () => {
    assert.throws(() => parseConfigText('routers:\n- protocol: http\n  dtab: [unclosed\n', 'l5d.yaml'), (e: unknown) => {
      assert.ok(e instanceof ConfigFileError);
      assert.match(e.message, /^l5d\.yaml:\d+:\d+: not valid YAML/);
      return true;
    });
    assert.throws(() => parseConfigText('a: 1\na: 2\n', 'l5d.yaml'), /not valid YAML.*[Dd]uplicate|unique/);
  });

  test('JSON configs read as well', () => {
    const n = naming('{"routers": [{"protocol": "http", "dtab": "/svc => /$/inet/127.1/80"}]}');
    assert.equal(n.label, 'http');
    assert.equal(n.dtab.show, '/svc=>/$/inet/127.1/80');
    assert.equal(n.interpreter.kind, 'default');
  });

  test('a malformed router dtab is reported at its key and line, with the parser message', () => {
    const e = failure('routers:\n- protocol: http\n  dtab: |\n    /svc => /a;\n    /web => => /b\n');
    assert.equal(e.at, 'routers[0].dtab');
    assert.equal(e.line, 3);
    assert.match(e.message, /routers\[0\]\.dtab: simple expected but '=' found/);
  });

  test('routers are chosen by label (protocol by default)', () => {
    const text = 'routers:\n- protocol: http\n  dtab: /a => /b\n- protocol: http\n  label: ext\n  dtab: /c => /d\n';
    assert.equal(naming(text, 'ext').dtab.show, '/c=>/d');
    assert.match(failure(text).message, /several routers \(http, ext\)/);
    assert.match(failure(text, 'nope').message, /no router labelled "nope"; routers: http, ext/);
    assert.match(failure('admin: {port: 9990}\n').message, /no routers/);
  });

  test('unknown and later namer kinds, and bad namer keys, name the key path and line', () => {
    const k8s = failure('namers:\n- kind: io.l5d.k8s\nrouters:\n- protocol: http\n');
    assert.equal(k8s.at, 'namers[0].kind');
    assert.match(k8s.message, /l5d\.yaml:2:\d+: namers\[0\]\.kind: namer kind io\.l5d\.k8s is not supported yet/);
    assert.match(failure('namers:\n- kind: io.l5d.nope\nrouters:\n- protocol: http\n').message, /unknown namer kind "io\.l5d\.nope"/);
    const extra = failure('namers:\n- kind: io.l5d.rewrite\n  prefix: /rw\n  pattern: /{x}\n  name: /svc/{x}\n  colour: blue\nrouters:\n- protocol: http\n');
    assert.equal(extra.at, 'namers[0].colour');
    assert.match(extra.message, /unknown key/);
    assert.match(failure('namers:\n- kind: io.l5d.rewrite\n  pattern: /{x}\n  name: /a\nrouters:\n- protocol: http\n').message, /prefix.*required/);
    assert.match(
      failure('routers:\n- protocol: http\n  interpreter:\n    kind: io.l5d.namerd\n    dst: /$/inet/127.1/4100\n').message,
      /routers\[0\]\.interpreter\.kind: interpreter kind io\.l5d\.namerd is not supported yet/,
    );
  });
});

// `dtabd delegate --config`: a router's delegation tree from a linkerd config, with a real
// io.l5d.fs namer over a temporary disco folder, run as a user runs it (a real process that
// exits by itself).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dtabd-delegate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function dtabd(args: string[], input?: string) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [MAIN, ...args], { input, encoding: 'utf8', timeout: 20_000, cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr, ms: Date.now() - started };
}

const disco = join(dir, 'disco');
mkdirSync(join(disco, 'prod'), { recursive: true });
writeFileSync(join(disco, 'web'), '# the web tier\n127.0.0.1 8080\n127.0.0.1 8081 * 3\n');
writeFileSync(join(disco, 'prod', 'api'), '10.0.0.5 9000\n');
writeFileSync(join(disco, 'broken'), '127.0.0.1 8080\nnot-an-address\n');

const config = join(dir, 'linkerd.yaml');
writeFileSync(
  config,
  `namers:
- kind: io.l5d.fs
  rootDir: disco
routers:
- protocol: http
  label: outgoing
  dtab: |
    /svc => /#/io.l5d.fs;
    /svc/api => /#/io.l5d.fs/prod/api;
- protocol: http
  label: incoming
  dtab: /svc => /$/inet/127.1/4141
  interpreter:
    kind: default
    transformers:
    - kind: io.l5d.port
      port: 7777
`,
);

describe('dtabd delegate --config', () => {
  test('prints the delegation tree of a name bound by the io.l5d.fs namer, and exits', () => {
    const r = dtabd(['delegate', '--config', config, '--router', 'outgoing', '/svc/web/extra']);
    assert.equal(r.code, 0, r.err);
    const tree = JSON.parse(r.out);
    assert.equal(tree.type, 'delegate');
    assert.equal(tree.path, '/svc/web/extra');
    // The /svc/api rule does not match /svc/web, so delegation goes straight to the fs namer.
    assert.equal(tree.delegate.type, 'leaf');
    assert.equal(tree.delegate.path, '/#/io.l5d.fs/web/extra');
    assert.deepEqual(tree.delegate.dentry, { prefix: '/svc', dst: '/#/io.l5d.fs' });
    assert.equal(tree.delegate.bound.id, '/#/io.l5d.fs/web');
    assert.equal(tree.delegate.bound.path, '/extra');
    const addrs = tree.delegate.bound.addr.addrs.map((a: { ip: string; port: number }) => `${a.ip}:${a.port}`).sort();
    assert.deepEqual(addrs, ['127.0.0.1:8080', '127.0.0.1:8081']);
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
  });

  test('a nested directory and a more specific dentry', () => {
    const r = dtabd(['delegate', '--config', config, '--router', 'outgoing', '/svc/api']);
    assert.equal(r.code, 0, r.err);
    const tree = JSON.parse(r.out);
    // The later dentry is tried first and binds; the earlier one, tried next, has no such file.
    assert.equal(tree.type, 'alt');
    assert.equal(tree.alt[0].bound.id, '/#/io.l5d.fs/prod/api');
    assert.deepEqual(tree.alt[0].bound.addr.addrs, [{ ip: '10.0.0.5', port: 9000, meta: {} }]);
    assert.deepEqual(tree.alt[1], { type: 'neg', path: '/#/io.l5d.fs/api', dentry: { prefix: '/svc', dst: '/#/io.l5d.fs' } });
  });

  test('--dtab adds an override that wins, as l5d-dtab does', () => {
    const r = dtabd(['delegate', '--config', config, '--router', 'outgoing', '--dtab', '/svc/web => /$/inet/127.1/9999', '/svc/web']);
    assert.equal(r.code, 0, r.err);
    const tree = JSON.parse(r.out);
    assert.equal(tree.type, 'alt');
    assert.equal(tree.alt[0].bound.id, '/$/inet/127.1/9999');
    assert.equal(tree.alt[1].bound.id, '/#/io.l5d.fs/web');
  });

  test('a malformed address file shows as a failed address naming the line', () => {
    const r = dtabd(['delegate', '--config', config, '--router', 'outgoing', '--compact', '/svc/broken']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /"type":"failed","cause":"[^"]*line 2/);
  });

  test('an interpreter transformer shows as a transformation step', () => {
    const r = dtabd(['delegate', '--config', config, '--router', 'incoming', '/svc/x']);
    assert.equal(r.code, 0, r.err);
    const tree = JSON.parse(r.out);
    assert.equal(tree.delegate.type, 'transformation');
    assert.equal(tree.delegate.tree.bound.id, '/%/io.l5d.port/7777/$/inet/127.1/4141');
    assert.equal(tree.delegate.tree.bound.addr.addrs[0].port, 7777);
  });

  test('config errors name the key and line; a missing router is named', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'namers:\n- kind: io.l5d.fs\n  rootDir: no-such-dir\nrouters:\n- protocol: http\n');
    let r = dtabd(['delegate', '--config', bad, '/svc/web']);
    assert.equal(r.code, 1);
    assert.match(r.err, /bad\.yaml:3:\d+: namers\[0\]\.rootDir/);
    r = dtabd(['delegate', '--config', config, '--router', 'nope', '/svc/web']);
    assert.equal(r.code, 1);
    assert.match(r.err, /no router labelled "nope"; routers: outgoing, incoming/);
    r = dtabd(['delegate', '--config', config, '/svc/web']);
    assert.equal(r.code, 1);
    assert.match(r.err, /several routers/);
  });

  test('the config can come from stdin', () => {
    const r = dtabd(['delegate', '--config', '-', '/svc/web'], 'routers:\n- protocol: http\n  dtab: /svc=>/$/inet/127.1/80\n');
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).delegate.bound.id, '/$/inet/127.1/80');
  });
});

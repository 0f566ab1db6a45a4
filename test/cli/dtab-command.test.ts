// `dtabd dtab check|lookup|delegate`, run as a user runs them: a real process.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function dtabd(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { input, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'dtabd-cli-'));

describe('dtabd dtab check', () => {
  test('prints the canonical form of a dtab read from stdin', () => {
    const r = dtabd(['dtab', 'check'], '# routes\n/svc => /srv | /$/inet/127.1/80 ;\n/srv/web => 0.5*/a & 0.5*/b;\n');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '/svc=>/srv | /$/inet/127.1/80;/srv/web=>0.50*/a & 0.50*/b\n');
  });
  test('prints one dentry per line with --lines, reading a file', () => {
    const f = join(dir, 'ok.dtab');
    writeFileSync(f, '/a=>/b;/c=>/d');
    const r = dtabd(['dtab', 'check', f, '--lines']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '/a=>/b;\n/c=>/d\n');
  });
  test('reports an error with the position marked and the line and column, exit 1', () => {
    const f = join(dir, 'bad.dtab');
    writeFileSync(f, '/a => /b;\n/c => (/d | /e;\n');
    const r = dtabd(['dtab', 'check', f]);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /invalid dtab: '\)' expected but ';' found at '\/a => \/b;\n\/c => \(\/d \| \/e\[;\]\n'/);
    assert.match(r.err, /at .*bad\.dtab:2:15/);
  });
  test('a missing file is a clear error, not a stack trace', () => {
    const r = dtabd(['dtab', 'check', join(dir, 'nope.dtab')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^cannot read dtab: ENOENT/);
  });
  test('an unknown command is a usage error', () => {
    const r = dtabd(['dtab', 'frobnicate']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /Unknown argument|Unknown command|name a dtab command/);
  });
});

describe('dtabd dtab lookup', () => {
  test('prints the name tree a path is rewritten into', () => {
    const r = dtabd(['dtab', 'lookup', '--dtab', '/svc=>/a | /b;/svc/web=>/c', '/svc/web/x']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '/c/x | (/a/web/x | /b/web/x)\n');
  });
  test('reads the dtab from @file', () => {
    const f = join(dir, 'l.dtab');
    writeFileSync(f, '/svc => /srv');
    assert.equal(dtabd(['dtab', 'lookup', '--dtab', '@' + f, '/svc/a']).out, '/srv/a\n');
  });
  test('an invalid path is reported with its position', () => {
    const r = dtabd(['dtab', 'lookup', '--dtab', '/a=>/b', 'svc/x']);
    assert.equal(r.code, 1);
    assert.match(r.err, /invalid path: '\/' expected but 's' found at '\[s\]vc\/x'/);
  });
});

describe('dtabd dtab delegate', () => {
  test("prints linkerd's delegator JSON with /$/inet names bound", () => {
    const r = dtabd(['dtab', 'delegate', '--compact', '--dtab', '/svc => 3 * /a & /b;/a => /$/inet/127.0.0.1/1', '/svc/x']);
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      '{"type":"union","path":"/svc/x","union":[{"weight":3.0,"tree":{"type":"delegate","path":"/a/x","dentry":{"prefix":"/svc","dst":"3.00*/a & /b"},"delegate":{"type":"leaf","path":"/$/inet/127.0.0.1/1/x","dentry":{"prefix":"/a","dst":"/$/inet/127.0.0.1/1"},"bound":{"addr":{"type":"bound","addrs":[{"ip":"127.0.0.1","port":1,"meta":{}}],"meta":{}},"id":"/$/inet/127.0.0.1/1","path":"/x"}}}},{"weight":1.0,"tree":{"type":"neg","path":"/b/x","dentry":{"prefix":"/svc","dst":"3.00*/a & /b"}}}]}\n',
    );
  });
  test('resolves a host name through DNS before printing', () => {
    const r = dtabd(['dtab', 'delegate', '--dtab', '/svc => /$/inet/localhost/8080', '/svc']);
    assert.equal(r.code, 0, r.err);
    const leaf = JSON.parse(r.out).delegate;
    assert.equal(leaf.type, 'leaf');
    assert.equal(leaf.bound.addr.type, 'bound', 'localhost resolved');
    assert.ok(leaf.bound.addr.addrs.length >= 1);
  });
  test('a delegation cycle is an error, exit 1', () => {
    const r = dtabd(['dtab', 'delegate', '--dtab', '/a=>/b;/b=>/a', '/a']);
    assert.equal(r.code, 1);
    assert.match(r.err, /delegation failed: Max recursion level reached\./);
  });
  test('the bundled example delegates (the README command)', () => {
    const example = fileURLToPath(new URL('../../examples/example.dtab', import.meta.url));
    const r = dtabd(['dtab', 'delegate', '--dtab', '@' + example, '/svc/web']);
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).path, '/svc/web');
  });
});

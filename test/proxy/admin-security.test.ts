// The admin server's `security` block: categories turned off answer 404 unless whitelisted,
// the blacklist wins, and control endpoints answer loopback callers only by default.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { admit, categoryOf, DEFAULT_SECURITY } from '../../src/admin/index.ts';
import { Disco, type RunningDaemon, send, startDaemon } from '../support/proxy.ts';

describe('admin security', () => {
  test('paths fall in linkerd categories', () => {
    assert.equal(categoryOf('/'), 'ui');
    assert.equal(categoryOf('/admin/metrics.json'), 'ui');
    assert.equal(categoryOf('/delegator.json'), 'ui');
    assert.equal(categoryOf('/admin/shutdown'), 'control');
    assert.equal(categoryOf('/logging.json'), 'control');
    assert.equal(categoryOf('/admin/ping'), 'diagnostics');
    assert.equal(categoryOf('/client_state.json'), 'diagnostics');
  });

  test('control answers loopback callers only, unless told otherwise', () => {
    assert.deepEqual(admit(DEFAULT_SECURITY, '/admin/shutdown', '127.0.0.1'), { ok: true });
    assert.deepEqual(admit(DEFAULT_SECURITY, '/admin/shutdown', '::1'), { ok: true });
    const far = admit(DEFAULT_SECURITY, '/admin/shutdown', '10.0.0.7');
    assert.equal(far.ok, false);
    assert.equal(!far.ok && far.status, 403);
    assert.deepEqual(admit({ ...DEFAULT_SECURITY, controlLoopbackOnly: false }, '/admin/shutdown', '10.0.0.7'), { ok: true });
    assert.deepEqual(admit(DEFAULT_SECURITY, '/admin/metrics.json', '10.0.0.7'), { ok: true });
  });

  const disco = new Disco();
  let d: RunningDaemon;
  before(async () => {
    d = await startDaemon(`admin:
  ip: 127.0.0.1
  port: 0
  security:
    diagnosticsEnabled: false
    pathWhitelist: ["/client_state\\\\.json"]
    pathBlacklist: ["/config\\\\.json"]
namers:
- kind: io.l5d.fs
  rootDir: ${disco.dir}
routers:
- protocol: http
  servers: [{port: 0}]
`);
  });
  after(async () => {
    await d.close();
    disco.close();
  });

  test('a category turned off answers 404, a whitelisted path still answers, the blacklist wins', async () => {
    assert.equal((await send(d.adminPort, { path: '/admin/ping' })).status, 404);
    assert.equal((await send(d.adminPort, { path: '/client_state.json' })).status, 200);
    assert.equal((await send(d.adminPort, { path: '/admin/metrics.json' })).status, 200);
    assert.equal((await send(d.adminPort, { path: '/config.json' })).status, 404);
  });
});

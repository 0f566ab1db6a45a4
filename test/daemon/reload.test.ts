// Reloading a running daemon in-process: a changed router is rebuilt on its listen address
// while the others keep serving untouched, a request in flight finishes on the router it
// started on, and an invalid config changes nothing.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseConfigText } from '../../src/config/index.ts';
import { Disco, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

describe('reload', () => {
  const disco = new Disco();
  let web: Upstream;
  let v2: Upstream;
  let slow: Upstream;
  let d: RunningDaemon;
  const twoRouters = (aDtab: string, aPort: number, bPort: number): string => `admin: {port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${disco.dir}
routers:
- protocol: http
  label: a
  dtab: ${aDtab}
  servers: [{port: ${aPort}}]
- protocol: http
  label: b
  dtab: /svc => /#/io.l5d.fs
  servers: [{port: ${bPort}}]
`;
  before(async () => {
    web = await upstream('web');
    v2 = await upstream('web-v2');
    slow = await upstream('slow', (req, res) => {
      req.resume();
      setTimeout(() => res.end('slow done'), 500);
    });
    disco.set('web', web.port);
    disco.set('web-v2', v2.port);
    disco.set('slow', slow.port);
    d = await startDaemon(twoRouters('/svc => /#/io.l5d.fs', 0, 0));
  });
  after(async () => {
    await d.close();
    await Promise.all([web.close(), v2.close(), slow.close()]);
    disco.close();
  });

  test('a changed router takes over its address; the other serves on without a failure', async () => {
    const aPort = d.port('a');
    const bPort = d.port('b');
    // Fixed ports from now on, so the reloaded config names the same listen addresses.
    const config = (aDtab: string): ReturnType<typeof parseConfigText> => parseConfigText(twoRouters(aDtab, aPort, bPort), 'reload.yaml');
    await d.daemon.reload(config('/svc => /#/io.l5d.fs'));
    const bRouter = d.daemon.routers().get('b');
    let failures = 0;
    let served = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        const r = await send(bPort, { headers: { host: 'web' } });
        if (r.status === 200) served++;
        else failures++;
      }
    })();
    const inflight = send(aPort, { headers: { host: 'slow' } });
    await new Promise((r) => setTimeout(r, 100));
    const report = await d.daemon.reload(config('/svc => /#/io.l5d.fs; /svc/web => /#/io.l5d.fs/web-v2'));
    assert.deepEqual(report, { started: [], replaced: ['a'], kept: ['b'], stopped: [] });
    assert.equal((await send(aPort, { headers: { host: 'web' } })).body, 'web-v2');
    assert.equal((await inflight).body, 'slow done');
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await loop;
    assert.equal(failures, 0);
    assert.ok(served > 10, `${served} served`);
    assert.equal(d.daemon.routers().get('b'), bRouter);
  });

  test('an invalid config is refused and changes nothing', async () => {
    const aPort = d.port('a');
    await assert.rejects(d.daemon.reload(parseConfigText('routers: []\n', 'bad.yaml')), /at least one router/);
    assert.equal((await send(aPort, { headers: { host: 'web' } })).status, 200);
  });
});

// The daemon as users run it: `dtabd run CONFIG` processes on loopback, two of them chained
// (an override made at the first hop steers the second), SIGHUP reloads (an invalid file keeps
// the running config), and draining on SIGTERM and POST /admin/shutdown.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';

import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Disco, eventually, send, type Upstream, upstream } from '../support/proxy.ts';

const NODE = process.execPath;

/** A port free right now (the daemon binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Proc {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function runDaemon(config: string, ...extra: string[]): Proc {
  const child = spawn(NODE, ['src/cli/main.ts', 'run', config, '--log-level', 'info', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

/** Waits until `port` routes a request for `host`; if it never does, says what `proc` printed and whether it exited. */
async function ready(port: number, host: string, proc?: Proc): Promise<void> {
  try {
    await eventually(async () => {
      try {
        return (await send(port, { headers: { host } })).status === 200;
      } catch {
        return false;
      }
    }, 20_000, `a routed request on ${port}`);
  } catch (e) {
    const code = proc?.child.exitCode;
    throw new Error(`${(e as Error).message}; the daemon ${code === null || code === undefined ? 'is running' : `exited with ${code}`}; its output:\n${proc?.output().slice(-3000) ?? '(not kept)'}`);
  }
}

function config(disco: string, admin: number, port: number, dtab: string): string {
  return `admin: {ip: 127.0.0.1, port: ${admin}, shutdownGraceMs: 3000}
namers:
- kind: io.l5d.fs
  rootDir: ${disco}
routers:
- protocol: http
  dtab: ${dtab}
  servers: [{port: ${port}}]
`;
}

describe('dtabd run processes', () => {
  const disco = new Disco();
  let web: Upstream;
  let v2: Upstream;
  let slow: Upstream;
  const procs: Proc[] = [];

  /** A daemon on fresh ports from a config file `name` with router dtab `dtab`, once it routes. */
  const started = async (name: string, dtab: string, ...extra: string[]): Promise<{ d: Proc; admin: number; port: number; file: string }> => {
    const [admin, port] = [await freePort(), await freePort()];
    const file = join(disco.dir, name);
    writeFileSync(file, config(disco.dir, admin, port, dtab));
    const d = runDaemon(file, ...extra);
    procs.push(d);
    await ready(port, 'web', d);
    return { d, admin, port, file };
  };
  before(async () => {
    web = await upstream('web');
    v2 = await upstream('web-v2');
    // Answers after 1 s: a request in flight while the daemon drains.
    slow = await upstream('slow', (req, res) => {
      req.resume();
      setTimeout(() => res.end('slow done'), 1000);
    });
    disco.set('web', web.port);
    disco.set('web-v2', v2.port);
    disco.set('slow', slow.port);
  });
  after(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all([web.close(), v2.close(), slow.close()]);
    disco.close();
  });

  test('an override made at the first of two chained daemons steers the second', async () => {
    const [a1, p1, a2, p2] = [await freePort(), await freePort(), await freePort(), await freePort()];
    // The first hop sends everything to the second; the second routes by the fs namer.
    const first = join(disco.dir, 'first.yaml');
    const second = join(disco.dir, 'second.yaml');
    writeFileSync(first, config(disco.dir, a1, p1, `/svc => /$/inet/127.0.0.1/${p2}`));
    writeFileSync(second, config(disco.dir, a2, p2, '/svc => /#/io.l5d.fs'));
    const d2 = runDaemon(second);
    const d1 = runDaemon(first);
    procs.push(d1, d2);
    await ready(p2, 'web', d2);
    await ready(p1, 'web', d1);
    const r = await send(p1, { headers: { host: 'web', 'l5d-dtab': '/svc/web => /svc/web-v2' } });
    assert.equal(r.body, 'web-v2');
    const got = v2.seen.at(-1)!.headers;
    assert.equal(got['l5d-ctx-dtab'], '/svc/web=>/svc/web-v2');
    assert.equal(got.via, '1.1 linkerd, 1.1 linkerd');
    assert.equal(r.headers.via, '1.1 linkerd, 1.1 linkerd');
    // Without the header both hops use their base dtabs.
    assert.equal((await send(p1, { headers: { host: 'web' } })).body, 'web');
    d1.child.kill('SIGTERM');
    d2.child.kill('SIGTERM');
    assert.equal(await d1.exited, 0);
    assert.equal(await d2.exited, 0);
  });

  test('SIGHUP reloads the config; an invalid one keeps the running config', async () => {
    const { d, admin, port, file } = await started('reload.yaml', '/svc => /#/io.l5d.fs');
    writeFileSync(file, config(disco.dir, admin, port, '/svc => /#/io.l5d.fs; /svc/web => /#/io.l5d.fs/web-v2'));
    d.child.kill('SIGHUP');
    await eventually(async () => (await send(port, { headers: { host: 'web' } })).body === 'web-v2', 5000, 'the reloaded dtab');
    // Requests keep flowing while an invalid file is refused.
    writeFileSync(file, config(disco.dir, admin, port, '/svc => ').replace('namers:', 'namers:\n  bogus: 1'));
    d.child.kill('SIGHUP');
    await eventually(() => d.output().includes('reload failed; the running config stays'), 5000, 'the reload error logged');
    assert.equal((await send(port, { headers: { host: 'web' } })).body, 'web-v2');
    d.child.kill('SIGTERM');
    assert.equal(await d.exited, 0);
  });

  test('with --watch, an edit of the config file reloads it', async () => {
    const { d, admin, port, file } = await started('watched.yaml', '/svc => /#/io.l5d.fs', '--watch');
    writeFileSync(file, config(disco.dir, admin, port, '/svc => /#/io.l5d.fs; /svc/web => /#/io.l5d.fs/web-v2'));
    await eventually(async () => (await send(port, { headers: { host: 'web' } })).body === 'web-v2', 5000, 'the edited dtab');
    d.child.kill('SIGTERM');
    assert.equal(await d.exited, 0);
  });

  test('POST /admin/shutdown drains: a request in flight completes, then the process exits', async () => {
    const { d, admin, port } = await started('drain.yaml', '/svc => /#/io.l5d.fs');
    const inflight = send(port, { headers: { host: 'slow' } });
    await new Promise((r) => setTimeout(r, 200));
    const get = await send(admin, { path: '/admin/shutdown' });
    assert.equal(get.status, 405);
    const shut = await send(admin, { method: 'POST', path: '/admin/shutdown' });
    assert.equal(shut.status, 200);
    // New connections are refused once draining starts.
    await eventually(async () => {
      try {
        await send(port, { headers: { host: 'web' } });
        return false;
      } catch {
        return true;
      }
    }, 3000, 'the listener closed');
    const r = await inflight;
    assert.equal(r.body, 'slow done');
    assert.equal(await d.exited, 0);
  });

  test('SIGTERM drains the same way', async () => {
    const { d, port } = await started('term.yaml', '/svc => /#/io.l5d.fs');
    const inflight = send(port, { headers: { host: 'slow' } });
    await new Promise((r) => setTimeout(r, 200));
    d.child.kill('SIGTERM');
    assert.equal((await inflight).body, 'slow done');
    assert.equal(await d.exited, 0);
  });

  test('/config.json gives the config back as JSON; /logging.json reads and changes the log level', async () => {
    const { d, admin } = await started('admin.yaml', '/svc => /#/io.l5d.fs');
    const cfg = JSON.parse((await send(admin, { path: '/config.json' })).body) as { routers: { dtab: string }[]; admin: { port: number } };
    assert.equal(cfg.routers[0]!.dtab, '/svc => /#/io.l5d.fs');
    assert.equal(cfg.admin.port, admin);
    assert.deepEqual(JSON.parse((await send(admin, { path: '/logging.json' })).body), [{ logger: 'root', level: 'INFO' }]);
    const set = await send(admin, { method: 'POST', path: '/logging.json', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'logger=root&level=DEBUG' });
    assert.deepEqual(JSON.parse(set.body), [{ logger: 'root', level: 'DEBUG' }]);
    const bad = await send(admin, { method: 'POST', path: '/logging.json', body: 'logger=root&level=LOUD' });
    assert.equal(bad.status, 400);
    assert.equal((await send(admin, { method: 'POST', path: '/logging.json', body: 'level=INFO' })).status, 400);
    d.child.kill('SIGTERM');
    assert.equal(await d.exited, 0);
  });

  test('an invalid config starts nothing and says where the problem is', async () => {
    const file = join(disco.dir, 'bad.yaml');
    writeFileSync(file, 'routers:\n- protocol: http\n  dtab: /svc => \n  servers: [{port: 0}]\n');
    const d = runDaemon(file);
    assert.equal(await d.exited, 1);
    assert.match(d.output(), /bad\.yaml:3:\d+: routers\[0\]\.dtab: /);
  });

  test('the config can come from stdin', async () => {
    const [admin, port] = [await freePort(), await freePort()];
    const child = spawn(NODE, ['src/cli/main.ts', 'run', '-'], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin!.end(config(disco.dir, admin, port, '/svc => /#/io.l5d.fs'));
    procs.push({ child, output: () => '', exited: new Promise((r) => child.once('exit', r)) });
    await ready(port, 'web');
    child.kill('SIGTERM');
  });
});


// `npm start`: the daemon with the bundled example (examples/linkerd.yaml), its two demo
// upstreams, and one request routed through it to show the way. Runs until Ctrl-C.

import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { startUpstream } from '../examples/upstream.ts';

const upstreams = [await startUpstream('web', 9081), await startUpstream('web-v2', 9082)];

const daemon = spawn(process.execPath, ['src/cli/main.ts', 'run', 'examples/linkerd.yaml', '--log-level', 'warn'], { stdio: 'inherit' });
const stop = (): void => {
  daemon.kill('SIGTERM');
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
daemon.once('exit', (code) => {
  for (const u of upstreams) u.close();
  process.exit(code ?? 0);
});

function get(headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: 4140, path: '/hello', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// The daemon answers within a fraction of a second; wait for it, a few ms at a time.
let first: { status: number; body: string } | undefined;
for (let i = 0; i < 2000 && first === undefined; i++) {
  try {
    first = await get({ host: 'web' });
  } catch {
    await new Promise((r) => setTimeout(r, 5));
  }
}
if (first === undefined) {
  console.error('dtabd did not answer on 127.0.0.1:4140');
  stop();
} else {
  const override = await get({ host: 'web', 'l5d-dtab': '/svc/web => /svc/web-v2' });
  console.log(`
dtabd is routing on http://127.0.0.1:4140 (admin on http://127.0.0.1:9990).

$ curl -H 'Host: web' http://127.0.0.1:4140/hello
${first.body}
$ curl -H 'Host: web' -H 'l5d-dtab: /svc/web => /svc/web-v2' http://127.0.0.1:4140/hello
${override.body}
Edit examples/disco/web to move traffic live; the access log is logs/access.log.
Dashboard: http://127.0.0.1:9990/   delegator: http://127.0.0.1:9990/delegator   recent requests: http://127.0.0.1:9990/requests
Ctrl-C stops everything.`);
}

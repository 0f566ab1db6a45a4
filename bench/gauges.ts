// What the event loop spends on gauges before a scrape written by the export thread: the time
// of one whole read of the gauges that are functions (MetricsRegistry.publishGauges, in one
// slice), in a daemon with --names clients and services, each name asked once through the proxy
// (an upstream in this process answers). Two figures, each the median of --reads reads: after
// 20 ms without a read (the usual case: caches gone cold), and right after another (warm).
//
//   npm run bench:gauges                          this checkout's src
//   npm run bench:gauges -- --src <dir>/src       another checkout's (a worktree of an older
//                                                 commit), measured the same way, run after run

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './support/measure.ts';

const { values: flags } = parseArgs({
  options: {
    src: { type: 'string', default: new URL('../src', import.meta.url).pathname },
    names: { type: 'string', default: '1000' },
    reads: { type: 'string', default: '40' },
  },
});
const src = resolve(flags.src);
const NAMES = Number(flags.names);
const READS = Number(flags.reads);
const load = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(src, path)).href)) as T;
const { Daemon } = await load<typeof import('../src/daemon/index.ts')>('daemon/index.ts');
const { parseConfigText } = await load<typeof import('../src/config/index.ts')>('config/index.ts');
const { SILENT_LOG } = await load<typeof import('../src/core/index.ts')>('core/index.ts');

const upstream = createServer((req, res) => {
  req.resume();
  res.end('hello\n');
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const dir = mkdtempSync(join(tmpdir(), 'dtabd-bench-gauges-'));
for (let i = 0; i < NAMES; i++) writeFileSync(join(dir, `s${i}`), `127.0.0.1 ${(upstream.address() as AddressInfo).port}\n`);
const config = `admin: {ip: 127.0.0.1, port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${dir}
routers:
- protocol: http
  identifier: {kind: io.l5d.header.token, header: Host}
  dtab: /svc => /#/io.l5d.fs
  servers:
  - port: 0
`;
const daemon = await Daemon.start(parseConfigText(config, 'bench.yaml'), { log: SILENT_LOG, naming: { rescanIntervalMs: 1000 } });
try {
  const port = [...daemon.servers().values()][0]!.address.port;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  let next = 0;
  const ask = (i: number) =>
    new Promise<void>((done) => {
      const req = request({ host: '127.0.0.1', port, agent, headers: { host: `s${i}` } }, (res) => res.resume().on('end', done));
      req.on('error', () => done());
      req.end();
    });
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < NAMES) await ask(next++);
  }));
  agent.destroy();
  const m = daemon.metrics;
  const read = async (): Promise<number> => {
    const t0 = performance.now();
    await m.publishGauges(Number.MAX_SAFE_INTEGER, async () => {}, 0);
    return performance.now() - t0;
  };
  const [cold, warm]: number[][] = [[], []];
  for (let i = 0; i < READS; i++) {
    await new Promise((r) => setTimeout(r, 20));
    cold.push(await read());
    warm.push(await read());
  }
  const called = 'calledGauges' in m ? ` (${String(m.calledGauges)} of them functions)` : '';
  console.log(`${src}: ${m.size} metrics${called}; one whole read of the gauges, median of ${READS}: ${median(cold).toFixed(3)} ms after 20 ms idle, ${median(warm).toFixed(3)} ms right after another`);
} finally {
  await daemon.shutdown(0);
  upstream.close();
  rmSync(dir, { recursive: true, force: true });
}

// What runs beside the load in bench:admin's phases: a scraper process, a process that burns
// CPU (the control phase), and the daemon's own GC count read between phases.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { get } from './admin.ts';
import { start, stop } from './procs.ts';

const SCRAPER = fileURLToPath(new URL('./scraper.ts', import.meta.url));

/**
 * Scrapes `paths` in turn every `everyS` seconds until stopped, from a process of its own under
 * SCHED_IDLE (scraper.ts, through util-linux's chrt); the times taken, by path.
 */
export async function scrapeEvery(port: number, everyS: number, paths: readonly string[]): Promise<{ stop(): Promise<number[][]> }> {
  const p = await start('scraper', 'chrt', ['--idle', '0', process.execPath, SCRAPER, String(port), String(everyS), ...paths]);
  return {
    async stop() {
      await stop(p);
      const last = p.output().trim().split('\n').pop() ?? '';
      if (p.exited()?.code !== 0 || !last.startsWith('[')) throw new Error(`scraper: ${p.output().slice(-2000)}`);
      return JSON.parse(last) as number[][];
    },
  };
}

/**
 * Another process that keeps a core busy for `ms` each second, in two bursts (as two scrapes
 * would): what the scrapes cost the machine, without dtabd doing anything.
 */
export function burnEverySecond(ms: number): { stop(): void } {
  const code = `setInterval(() => { const t = performance.now(); while (performance.now() - t < ${ms / 2}) {} }, 500);`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  return { stop: () => void child.kill('SIGKILL') };
}

/**
 * The daemon's process/gc/msec and process/gc/cycles, from a scrape of that scope alone (as any
 * scrape, up to 100 ms old when another scrape read the gauges just before).
 */
export async function gcOf(admin: number): Promise<{ ms: number; cycles: number }> {
  const r = await get(admin, '/admin/metrics.json?q=process/gc', false, '127.0.0.1', true);
  const m = JSON.parse(r.body) as Record<string, number>;
  return { ms: m['process/gc/msec'] ?? Number.NaN, cycles: m['process/gc/cycles'] ?? Number.NaN };
}

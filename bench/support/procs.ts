// The processes a load benchmark starts, and what Linux says about them. Every process is
// started with spawn and remembered by its PID; `stopAll` stops them by PID when the benchmark
// ends, and the handlers from `stopOnExit` do the same when it fails or is interrupted. Memory
// and CPU are read from /proc: VmRSS (resident now), VmHWM (the most it was ever resident)
// and the user plus system time of the process.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** performance.now() just before the spawn. */
  readonly spawnedAt: number;
  /** The last few kilobytes the process wrote to stdout and stderr. */
  output(): string;
  /** How it ended, once it has. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Resolves when the process has ended. */
  readonly ended: Promise<void>;
}

const live = new Map<number, Started>();
const TAIL = 8192;

/** Starts `cmd` with `args`, keeping the tail of its output; throws if it cannot be started. */
export async function start(name: string, cmd: string, args: readonly string[], cwd?: string): Promise<Started> {
  const spawnedAt = performance.now();
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (b: Buffer) => {
    tail = (tail + b.toString('utf8')).slice(-TAIL);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const ended = new Promise<void>((resolve) => {
    child.on('close', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(new Error(`${name}: cannot start ${cmd}: ${e.message}`)));
  });
  const started: Started = {
    name,
    pid: child.pid!,
    child,
    spawnedAt,
    output: () => tail,
    exited: () => exit,
    ended,
  };
  live.set(started.pid, started);
  void ended.then(() => live.delete(started.pid));
  return started;
}

/** Stops one process by its PID: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export async function stop(p: Started, graceMs = 3000): Promise<void> {
  if (p.exited() !== undefined) return;
  signal(p.pid, 'SIGTERM');
  const timer = setTimeout(() => signal(p.pid, 'SIGKILL'), graceMs);
  await p.ended;
  clearTimeout(timer);
}

/** Stops every process still running that this module started. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live.values()].map((p) => stop(p)));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

let installed = false;

/** On SIGINT, SIGTERM or an exit with processes left, kills those processes by PID. */
export function stopOnExit(cleanup: () => void = () => {}): void {
  if (installed) return;
  installed = true;
  const killAll = () => {
    for (const p of live.values()) signal(p.pid, 'SIGKILL');
    live.clear();
    cleanup();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      killAll();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

export interface Memory {
  /** Resident now, kB. */
  readonly rssKb: number;
  /** Most ever resident, kB. */
  readonly hwmKb: number;
}

/** VmRSS and VmHWM of a live process, or undefined once it is gone. */
export function memory(pid: number): Memory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User plus system CPU time of a process and its finished threads, in ms; of its thread `tid` only, when given (the event loop's is the process id). */
export function cpuMs(pid: number, tid?: number): number {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    // The command name in parentheses may hold spaces; the fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** CPU time the whole machine spent running processes (user, nice and system), ms. */
export function machineBusyMs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  return ((Number(f[1]) + Number(f[2]) + Number(f[3])) * 1000) / CLK_TCK;
}

/**
 * CPU time of this process, of the children it has waited for (wrk, once its run ends) and of
 * every process it started that is still running, ms. What the machine spent beyond this during
 * a run went to processes that are not part of the benchmark.
 */
export function ownCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let ms = ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
  for (const p of live.values()) {
    const c = cpuMs(p.pid);
    if (!Number.isNaN(c)) ms += c;
  }
  return ms;
}

/** Samples a process's VmRSS every `everyMs` until `end()`, which gives the largest sample (kB). */
export function sampleRss(pid: number, everyMs = 100): { end(): number } {
  let max = memory(pid)?.rssKb ?? 0;
  const timer = setInterval(() => {
    const m = memory(pid);
    if (m !== undefined && m.rssKb > max) max = m.rssKb;
  }, everyMs);
  return {
    end() {
      clearInterval(timer);
      const m = memory(pid);
      if (m !== undefined && m.rssKb > max) max = m.rssKb;
      return max;
    },
  };
}

/** Whether `cmd` is found on PATH. */
export function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$0"', cmd], { stdio: 'ignore' }).status === 0;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port free on 127.0.0.1 just now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs in which other processes took this share of a core or more are named in the output. */
export const OTHER_CPU_WARNING = 5;

/** Starts counting the CPU that processes outside the benchmark take; `end()` gives % of one core. */
export function otherCpu(): { end(): number } {
  const [busy0, own0, t0] = [machineBusyMs(), ownCpuMs(), performance.now()];
  return { end: () => Math.max(0, ((machineBusyMs() - busy0 - (ownCpuMs() - own0)) / (performance.now() - t0)) * 100) };
}

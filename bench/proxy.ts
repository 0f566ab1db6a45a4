// The HTTP/1.1 proxy under load, side by side with nginx on loopback, in one run. One upstream
// (a second nginx, one process, answering GET / with the 13 bytes "hello, world\n" over
// keep-alive) is reached three ways: directly, through nginx as a reverse proxy (one process,
// an upstream keep-alive pool of 64), and through dtabd's HTTP router (`dtabd run` with an
// io.l5d.fs namer and the dtab `/svc => /#/io.l5d.fs`, requests sent with `Host: web`).
//
// Load comes from wrk, one thread and 32 connections. First as fast as it goes (requests a
// second, p50 and p99 latency), in rounds that visit every path in turn, so that a slow spell
// of the machine falls on all paths rather than on one; the median round is reported with the
// spread. Then paced at fixed rates (2,000 and 5,000 a second: achieved rate, p50 and p99,
// which are lower bounds, see support/wrk.ts). A 2 s warm-up of the same load comes before
// each paced run and before each path's first saturation round. While a proxy is under load
// its VmRSS is sampled every 100 ms; its VmHWM is read after the last run; its CPU time (all
// threads) is divided by the requests answered. For each proxy, the time from spawn to the
// first 200 answered through it is taken by one request every 5 ms, on an idle machine.
//
//   npm run bench:proxy                              everything; a table, then one JSON line
//   npm run bench:proxy -- --only nginx,dtabd        some paths only (direct, nginx, dtabd)
//   npm run bench:proxy -- --duration 5              seconds per measured run (default 10)
//   npm run bench:proxy -- --rounds 5                saturation rounds (default 3)
//   npm run bench:proxy -- --rates 2000              paced rates (default 2000,5000; none for none)
//   npm run bench:proxy -- --modules on|off          dtabd's resilience modules (support/launchers.ts)
//   npm run bench:proxy -- --proxy CMD [--label L]   measure CMD in dtabd's place
//   npm run bench:proxy -- --stand-in CMD            measure CMD if `dtabd run` does not answer
//
// CMD is a command line split at spaces, where {port} is the port to listen on, {upstream} the
// upstream's host:port, {config} dtabd's config file and {tmp} the run's folder; `node` or a
// first word ending in .ts or .js runs on this Node. The row says which command answered.
// nginx and wrk are installed with apt-get when they are not on PATH. The exit status is 1
// when a path asked for could not be measured.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuMs, freePort, machineBusyMs, memory, OTHER_CPU_WARNING, ownCpuMs, sampleRss, sleep, type Started, start, stop, stopAll, stopOnExit } from './support/procs.ts';
import { errorCount, type WrkResult, type WrkScripts, wrk, writeScripts } from './support/wrk.ts';
import { commandLine, dtabdConfig, dtabdRun, type Launcher, type Modules, type ProxySetup, scriptName } from './support/launchers.ts';
import { ensureNginxAndWrk, nginxConfig, startNginx } from './support/nginx.ts';

const BODY = 'hello, world\n';
const CONNECTIONS = 32;
const WARM_UP_S = 2;
const FIRST_REQUEST_TIMEOUT_MS = 20_000;

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    modules: { type: 'string', default: 'default' },
    only: { type: 'string', default: 'direct,nginx,dtabd' },
    rates: { type: 'string', default: '2000,5000' },
    proxy: { type: 'string' },
    label: { type: 'string' },
    'stand-in': { type: 'string' },
    rounds: { type: 'string', default: '3' },
  },
});
const SECONDS = Number(flags.duration);
if (!['default', 'off', 'on'].includes(flags.modules)) throw new Error(`--modules: default, off or on, not ${flags.modules}`);
const MODULES = flags.modules as Modules;
if (!(SECONDS > 0)) throw new Error('--duration takes a number of seconds');
const ONLY = new Set(flags.only.split(',').map((s) => s.trim()));
for (const o of ONLY) if (!['direct', 'nginx', 'dtabd'].includes(o)) throw new Error(`--only: unknown path ${o}`);
const ROUNDS = Number(flags.rounds);
if (!(ROUNDS >= 1)) throw new Error('--rounds takes a whole number');
const RATES = flags.rates === 'none' || flags.rates === '' ? [] : flags.rates.split(',').map(Number);

// ---- Tools ----


/** One GET / on a new connection: the status and body, or undefined if it failed. */
function probe(port: number, host: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/**
 * Asks every 5 ms until a 200 with the upstream's body comes back; gives the ms since the spawn,
 * or why there was none.
 */
async function firstRequest(p: Started, port: number, host: string): Promise<{ ms: number } | { failed: string }> {
  for (;;) {
    const r = await probe(port, host);
    const now = performance.now();
    if (r?.status === 200 && r.body === BODY) return { ms: now - p.spawnedAt };
    const exit = p.exited();
    if (exit !== undefined) return { failed: `exited (${exit.signal ?? `code ${exit.code}`}): ${why(p.output())}` };
    if (now - p.spawnedAt > FIRST_REQUEST_TIMEOUT_MS) {
      return { failed: `no 200 within ${FIRST_REQUEST_TIMEOUT_MS} ms (last: ${r ? r.status : 'no answer'}): ${why(p.output())}` };
    }
    await sleep(5);
  }
}

/** The line of a process's output that says what went wrong, or its last lines. */
function why(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.find((l) => /error|unknown|cannot|not found|refused/i.test(l)) ?? (lines.slice(-3).join(' / ') || 'no output');
}

// ---- Runs ----

type PathName = 'direct' | 'nginx' | 'dtabd';

/** One way to the upstream, and its proxy process if it has one. */
interface Target {
  readonly path: PathName;
  /** What answers: the upstream itself, nginx, `dtabd run` at a commit, a stand-in... */
  readonly measured: string;
  readonly port: number;
  readonly proxy?: Started;
  readonly startToFirstMs?: number;
  readonly idleRssKb?: number;
}

interface Run {
  readonly path: PathName;
  /** Paced rate, or undefined for as fast as it goes. */
  readonly rate?: number;
  readonly round: number;
  readonly result: WrkResult;
  /** Proxy CPU time (all threads, user and system) during the measured run, µs per request. */
  readonly proxyCpuUsPerRequest?: number;
  /** Largest VmRSS sample of the proxy during the warm-up and the measured run, kB. */
  readonly maxRssKb?: number;
  /** CPU the machine gave to processes outside the benchmark during the run, % of one core. */
  readonly otherCpuPercent: number;
}

async function load(t: Target, scripts: WrkScripts, rate: number | undefined, round: number, warmUp: boolean): Promise<Run> {
  const base = { url: `http://127.0.0.1:${t.port}/`, host: 'web', connections: CONNECTIONS };
  const script = rate === undefined ? scripts.saturate : scripts.paced;
  const pid = t.proxy?.pid;
  const sampler = pid === undefined ? undefined : sampleRss(pid);
  if (warmUp) await wrk({ ...base, seconds: WARM_UP_S, script, rate });
  const cpu0 = pid === undefined ? 0 : cpuMs(pid);
  const [busy0, own0, at0] = [machineBusyMs(), ownCpuMs(), performance.now()];
  const result = await wrk({ ...base, seconds: SECONDS, script, rate });
  const cpu1 = pid === undefined ? 0 : cpuMs(pid);
  const otherMs = machineBusyMs() - busy0 - (ownCpuMs() - own0);
  const otherCpuPercent = Math.max(0, (otherMs / (performance.now() - at0)) * 100);
  const maxRssKb = sampler?.end();
  const errors = errorCount(result);
  console.error(
    `  ${t.path} ${rate === undefined ? `saturation, round ${round + 1}` : `${rate}/s`}: ${result.rate.toFixed(0)} req/s, ` +
      `p50 ${result.p50} µs, p99 ${result.p99} µs${maxRssKb ? `, RSS ${(maxRssKb / 1024).toFixed(1)} MB` : ''}` +
      (errors > 0 ? `, ${errors} errors ${JSON.stringify(result.errors)}` : '') +
      (otherCpuPercent >= OTHER_CPU_WARNING ? `; other processes took ${otherCpuPercent.toFixed(0)} % of a core` : ''),
  );
  return {
    path: t.path,
    rate,
    round,
    result,
    proxyCpuUsPerRequest: pid === undefined ? undefined : ((cpu1 - cpu0) * 1000) / result.requests,
    maxRssKb,
    otherCpuPercent,
  };
}

/** Starts a proxy and waits for its first routed 200; stops it and says why if none came. */
async function launch(path: PathName, measured: string, port: number, started: Started): Promise<Target | { failed: string }> {
  const first = await firstRequest(started, port, 'web');
  if ('failed' in first) {
    await stop(started);
    return { failed: first.failed };
  }
  const idleRssKb = memory(started.pid)?.rssKb;
  console.error(`${path} (${measured}): first 200 after ${first.ms.toFixed(1)} ms, RSS ${((idleRssKb ?? 0) / 1024).toFixed(1)} MB`);
  return { path, measured, port, proxy: started, startToFirstMs: first.ms, idleRssKb };
}

function version(cmd: string, args: string[]): string {
  // nginx -v writes to stderr; wrk -v exits with 1.
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? '?';
}

// ---- Output ----

interface Summary {
  readonly path: PathName;
  readonly measured: string;
  readonly failed?: string;
  readonly startToFirstMs?: number;
  readonly idleRssKb?: number;
  readonly hwmKb?: number;
  readonly maxRssKb?: number;
  /** The saturation round with the median rate, and the rates of all rounds. */
  readonly saturation?: Run;
  readonly saturationRates?: number[];
  readonly paced: Run[];
}

function summarise(t: Target | { path: PathName; measured: string; failed: string }, runs: Run[], hwmKb: number | undefined): Summary {
  if ('failed' in t) return { path: t.path, measured: t.measured, failed: t.failed, paced: [] };
  const mine = runs.filter((r) => r.path === t.path);
  const sat = mine.filter((r) => r.rate === undefined).sort((a, b) => a.result.rate - b.result.rate);
  const samples = mine.map((r) => r.maxRssKb ?? 0);
  return {
    path: t.path,
    measured: t.measured,
    startToFirstMs: t.startToFirstMs,
    idleRssKb: t.idleRssKb,
    hwmKb,
    maxRssKb: t.proxy === undefined ? undefined : Math.max(...samples),
    saturation: sat[(sat.length - 1) >> 1],
    saturationRates: sat.map((r) => r.result.rate),
    paced: mine.filter((r) => r.rate !== undefined),
  };
}

function table(summaries: Summary[]): string {
  const nginxRate = summaries.find((r) => r.path === 'nginx')?.saturation?.result.rate;
  const us = (x: number | undefined) => (x === undefined ? '-' : String(Math.round(x)));
  const mb = (kb: number | undefined) => (kb === undefined ? '-' : (kb / 1024).toFixed(1));
  const head = [
    'path',
    'what answers',
    `saturation req/s (median; min..max of ${ROUNDS})`,
    'x nginx',
    'p50 µs',
    'p99 µs',
    ...RATES.map((r) => `${r}/s: achieved; p50; p99 µs`),
    'proxy CPU µs/req',
    'proxy RSS MB (idle; max sampled; VmHWM)',
    'spawn to first routed 200 (ms)',
  ];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const s of summaries) {
    if (s.failed !== undefined || s.saturation === undefined) {
      lines.push(`| ${s.path} | ${s.measured}: not measured, ${(s.failed ?? 'no runs').replaceAll('|', '/')} |`);
      continue;
    }
    const sat = s.saturation;
    const rates = s.saturationRates!;
    const cells = [
      s.path,
      s.measured,
      `**${sat.result.rate.toFixed(0)}**; ${rates[0]!.toFixed(0)}..${rates.at(-1)!.toFixed(0)}`,
      nginxRate ? (sat.result.rate / nginxRate).toFixed(2) : '-',
      us(sat.result.p50),
      us(sat.result.p99),
      ...RATES.map((rate) => {
        const p = s.paced.find((x) => x.rate === rate);
        return p ? `${p.result.rate.toFixed(0)}; ${us(p.result.p50)}; ${us(p.result.p99)}` : '-';
      }),
      sat.proxyCpuUsPerRequest === undefined ? '-' : sat.proxyCpuUsPerRequest.toFixed(1),
      s.idleRssKb === undefined ? '-' : `${mb(s.idleRssKb)}; ${mb(s.maxRssKb)}; **${mb(s.hwmKb)}**`,
      s.startToFirstMs === undefined ? '-' : s.startToFirstMs.toFixed(0),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

// ---- Main ----

async function main(): Promise<void> {
  ensureNginxAndWrk();
  const tmp = mkdtempSync(join(tmpdir(), 'dtabd-bench-proxy-'));
  stopOnExit(() => rmSync(tmp, { recursive: true, force: true }));
  const scripts = writeScripts(tmp);
  const nginxVersion = version('nginx', ['-v']).replace(/^nginx version: /, '');
  const wrkVersion = version('wrk', ['-v']).split(' [')[0]!;
  const t0 = performance.now();
  try {
    const upstreamPort = await freePort();
    const upstreamConf = nginxConfig(
      tmp,
      'upstream',
      `  server {
    listen 127.0.0.1:${upstreamPort} backlog=4096;
    location / { return 200 "${BODY.replace('\n', '\\n')}"; }
  }`,
    );
    const upstream = await startNginx(tmp, 'upstream', upstreamConf);
    const up = await firstRequest(upstream, upstreamPort, 'web');
    if ('failed' in up) throw new Error(`the upstream nginx did not answer: ${up.failed}`);

    const targets: (Target | { path: PathName; measured: string; failed: string })[] = [];
    if (ONLY.has('direct')) targets.push({ path: 'direct', measured: `the upstream (${nginxVersion})`, port: upstreamPort });

    if (ONLY.has('nginx')) {
      const port = await freePort();
      const conf = nginxConfig(
        tmp,
        'proxy',
        `  upstream upstream_pool {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://upstream_pool;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`,
      );
      const r = await launch('nginx', nginxVersion, port, await startNginx(tmp, 'proxy', conf));
      targets.push('failed' in r ? { path: 'nginx', measured: nginxVersion, failed: r.failed } : r);
    }

    if (ONLY.has('dtabd')) {
      const port = await freePort();
      const config = dtabdConfig(tmp, port, await freePort(), upstreamPort, MODULES);
      const setup: ProxySetup = { tmp, port, upstreamPort, config };
      const candidates: Launcher[] =
        flags.proxy !== undefined
          ? [commandLine(flags.proxy, flags.label ?? scriptName(flags.proxy))]
          : [dtabdRun, ...(flags['stand-in'] !== undefined ? [commandLine(flags['stand-in'], flags.label ?? `stand-in ${scriptName(flags['stand-in'])}`)] : [])];
      const notAnswering: string[] = [];
      for (const launcher of candidates) {
        const l = launcher(setup);
        const measured = notAnswering.length > 0 ? `${l.label} (${notAnswering.join('; ')})` : l.label;
        const r = await launch('dtabd', measured, port, await start(l.label, l.cmd, l.args, l.cwd));
        if (!('failed' in r)) {
          targets.push(r);
          break;
        }
        console.error(`${l.label} did not answer: ${r.failed}`);
        notAnswering.push(`${l.label.split(' at ')[0]} did not answer`);
        if (launcher === candidates.at(-1)) targets.push({ path: 'dtabd', measured: l.label, failed: r.failed });
      }
    }

    // Saturation rounds go through every path in turn, so that a slow spell of the machine
    // falls on all of them; the warm-up comes before each path's first round.
    const live = targets.filter((t): t is Target => !('failed' in t));
    const runs: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of live) runs.push(await load(t, scripts, undefined, round, round === 0));
    }
    for (const rate of RATES) for (const t of live) runs.push(await load(t, scripts, rate, 0, true));

    const summaries = targets.map((t) => summarise(t, runs, 'failed' in t || t.proxy === undefined ? undefined : memory(t.proxy.pid)?.hwmKb));
    const upstreamHwmKb = memory(upstream.pid)?.hwmKb;
    await stopAll();

    console.log(table(summaries));
    if (summaries.some((x) => x.failed !== undefined)) process.exitCode = 1;
    const errors = runs.filter((r) => errorCount(r.result) > 0);
    for (const r of errors) console.log(`Errors: ${r.path} ${r.rate === undefined ? `saturation round ${r.round + 1}` : `${r.rate}/s`}: ${JSON.stringify(r.result.errors)}`);
    const busiest = Math.max(...runs.map((r) => r.otherCpuPercent));
    const disturbed = runs.filter((r) => r.otherCpuPercent >= OTHER_CPU_WARNING);
    console.log();
    if (disturbed.length > 0) {
      const which = disturbed.map((r) => `${r.path} ${r.rate === undefined ? `saturation round ${r.round + 1}` : `${r.rate}/s`} (${r.otherCpuPercent.toFixed(0)} %)`);
      console.log(`Other processes took CPU during some measured runs, as a share of one core: ${which.join(', ')}. Those runs are not from a quiet machine.`);
    } else {
      console.log(`Other processes took at most ${busiest.toFixed(1)} % of a core during any measured run.`);
    }
    console.log(
      `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ${nginxVersion}, ${wrkVersion}; ` +
        `wrk -t1 -c${CONNECTIONS}, ${SECONDS} s per measured run, ${ROUNDS} saturation rounds; upstream peak RSS ` +
        `${((upstreamHwmKb ?? 0) / 1024).toFixed(1)} MB; ${((performance.now() - t0) / 1000).toFixed(0)} s in all.`,
    );
    console.log(
      JSON.stringify({
        bench: 'proxy',
        node: process.version,
        nginx: nginxVersion,
        wrk: wrkVersion,
        cpus: cpus().length,
        connections: CONNECTIONS,
        seconds: SECONDS,
        warmUpSeconds: WARM_UP_S,
        rounds: ROUNDS,
        upstreamHwmKb,
        summaries,
        runs,
      }),
    );
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();

// The admin server's cost, with 1,000 clients and 1,000 services in one `dtabd run`. One
// upstream (nginx, one process, answering GET / with "hello, world\n"); an io.l5d.fs namer whose
// folder holds `s0`..`s999`, each the upstream's address; one HTTP router with the dtab
// `/svc => /#/io.l5d.fs` and the io.l5d.header.token identifier on Host, so that `Host: sN` is
// the service `/svc/sN` and the client `/#/io.l5d.fs/sN`. One request to every name makes the
// 1,000 services and clients before anything is measured.
//
// scrape  N sequential GETs of /admin/metrics.json, then of /admin/metrics/prometheus, on one
//         kept-alive connection, the proxy idle: wall time from the call to the last byte
//         (median, p90, max), the body's size, and the daemon's CPU time per scrape (/proc
//         utime+stime over the batch, less the idle rate measured just before).
// load    wrk paced at --rate over all names in turn (support/wrk.ts: the paced p50 and p99 are
//         lower bounds), --duration s without scraping, then --duration s with both endpoints
//         scraped once a second (linkerd's dashboard polls every second, Prometheus every
//         10-15 s), --rounds times: p50, p99 and max per phase, the scrapes' own times, the
//         daemon's CPU and its event loop's, and its garbage collection. The scraper is a
//         process of its own under the idle scheduling policy (support/scraper.ts, started with
//         util-linux's chrt), so that its reading megabytes a second does not count against
//         the daemon. The warm-up scrapes both endpoints once.
// ws      dashboard pages on ws://127.0.0.1:<admin>/admin/ws: 0 pages, then --pages pages open,
//         each for --ws-seconds under a light paced load (--ws-rate), --rounds times; the
//         daemon's CPU (% of one core) over each window and what the pages received.
//
// Verdicts under the tables: each scrape's p90 <= 20 ms; the p99 counts as not raised when the
// median over rounds of (the scraping phase's p99 less the quiet phase's of the same round) is
// within 10 % of the median quiet p99; with --same-bytes, the scraping phase's less the phase
// scraping the same bodies from nginx (the daemon's own share); the pages cost <= 2 % of a
// core more than none. Each round starts with another phase. If /admin/ws does not upgrade,
// the ws row says so and the run goes on.
//
//   npm run bench:admin                                  everything; tables, then one JSON line
//   npm run bench:admin -- --only scrape,load            some parts only (scrape, load, ws)
//   npm run bench:admin -- --duration 5 --rounds 1       seconds per load phase; alternations
//   npm run bench:admin -- --scrapes 50 --names 1000     scrapes per batch; services and clients
//   npm run bench:admin -- --rate 2000 --ws-rate 200     paced rates of the load and ws parts
//   npm run bench:admin -- --pages 10 --ws-seconds 20    pages open and seconds per ws window
//   npm run bench:admin -- --profile DIR                 the daemon runs with --cpu-prof into DIR
//                                                       (a sample every 100 µs)
//   npm run bench:admin -- --label TEXT                  names what was measured (default: the commit)
//   npm run bench:admin -- --control 25                  load part: also a phase with no scraping
//                                                       while another process is busy 25 ms a second
//   npm run bench:admin -- --scrape-every 15             load part: seconds between scrapes of both
//                                                       endpoints (1 unless given; Prometheus's
//                                                       own default is 60)
//   npm run bench:admin -- --same-bytes                  load part: also a phase scraping the same
//                                                       bodies from nginx (what the bytes cost the
//                                                       machine, apart from the daemon)
//   npm run bench:admin -- --windows                     load part: also capture the packets of each scraping
//                                                       phase (tcpdump) and tell, by window of the scrapes,
//                                                       where the slowest 1 % of requests started
//   npm run bench:admin -- --thread-min 0                admin.exportThreadMinMetrics for the daemon
//                                                       (0: always the export thread; a large
//                                                       number: never)
//
// After the scrape part, the daemon's resident memory (RSS) is given.
//
// The daemon is `node src/cli/main.ts run <config> --log-level warn` on this Node (types
// stripped at load). nginx and wrk are installed with apt-get when they are not on PATH.

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMs, freePort, memory, OTHER_CPU_WARNING, otherCpu, sleep, type Started, start, stopAll, stopOnExit } from './support/procs.ts';
import { errorCount, type WrkResult, wrk, writeScripts } from './support/wrk.ts';
import { ensureNginxAndWrk, nginxConfig, startNginx } from './support/nginx.ts';
import { revision } from './support/launchers.ts';
import { p99Verdicts } from './support/p99-verdict.ts';
import { burnEverySecond, gcOf, scrapeEvery } from './support/phases.ts';
import { ensureTcpdump, readPcap, requestsByWindow, startCapture, type Window, windowLines } from './support/capture.ts';
import { countScopes, get, keepAlive, manyNamesConfig, openPages, spreadScript, type Stats, staticCopy, stats, touchEveryName } from './support/admin.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CONNECTIONS = 32;
const WARM_UP_S = 2;
const ENDPOINTS = ['/admin/metrics.json', '/admin/metrics/prometheus'] as const;
const SCRAPE_TARGET_MS = 20;
const WS_TARGET_CPU = 2;

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string', default: 'scrape,load,ws' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    scrapes: { type: 'string', default: '50' },
    names: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '2000' },
    'ws-rate': { type: 'string', default: '200' },
    'ws-seconds': { type: 'string', default: '20' },
    pages: { type: 'string', default: '10' },
    profile: { type: 'string' },
    label: { type: 'string' },
    control: { type: 'string' },
    'same-bytes': { type: 'boolean', default: false },
    'scrape-every': { type: 'string', default: '1' },
    'thread-min': { type: 'string' },
    windows: { type: 'boolean', default: false },
  },
});
const ONLY = new Set(flags.only.split(',').map((s) => s.trim()));
for (const o of ONLY) if (!['scrape', 'load', 'ws'].includes(o)) throw new Error(`--only: unknown part ${o} (scrape, load, ws)`);
const num = (name: keyof typeof flags, min: number): number => {
  const v = Number(flags[name]);
  if (!(v >= min)) throw new Error(`--${name} takes a number >= ${min}`);
  return v;
};
const SECONDS = num('duration', 1);
const SCRAPE_EVERY_S = num('scrape-every', 1);
const ROUNDS = num('rounds', 1);
const SCRAPES = num('scrapes', 1);
const NAMES = num('names', 1);
const RATE = num('rate', 1);
const WS_RATE = num('ws-rate', 1);
const WS_SECONDS = num('ws-seconds', 1);
const PAGES = num('pages', 1);

const ms1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');

/** Asks every 20 ms until a request for `s0` through the proxy answers 200. */
async function firstRoutedOk(d: Started, port: number): Promise<number> {
  for (;;) {
    const r = await get(port, '/', false, 's0').catch(() => undefined);
    if (r?.status === 200) return performance.now() - d.spawnedAt;
    if (d.exited() !== undefined) throw new Error(`dtabd exited: ${d.output().slice(-2000)}`);
    if (performance.now() - d.spawnedAt > 30_000) throw new Error(`dtabd: no routed 200 in 30 s: ${d.output().slice(-2000)}`);
    await sleep(20);
  }
}

/** With --windows: the requests and scrapes of every scraping phase's capture. */
const captured: { requests: { us: number; window: Window }[]; scrapes: { firstByteMs: number; lastByteMs: number }[] } = { requests: [], scrapes: [] };

const noisy: string[] = [];
/** Phases in which the scraper (under SCHED_IDLE) did not keep its pace. */
const slowScraper: string[] = [];
function noted(what: string, other: number): number {
  if (other >= OTHER_CPU_WARNING) noisy.push(`${what} (${other.toFixed(0)} %)`);
  return other;
}

/** The daemon's CPU (ms) per ms of wall time while nothing is asked of it, over `ms`. */
async function idleCpuRate(pid: number, ms = 3000): Promise<number> {
  const [c0, t0] = [cpuMs(pid), performance.now()];
  await sleep(ms);
  return (cpuMs(pid) - c0) / (performance.now() - t0);
}

// ---- Parts ----

interface ScrapeRow {
  readonly path: string;
  readonly bytes: number;
  readonly firstMs: number;
  readonly wall: Stats;
  /** Daemon CPU per scrape, ms, idle rate subtracted; and as measured. */
  readonly cpuMs: number;
  readonly rawCpuMs: number;
  /** The event loop's thread's share of rawCpuMs (the rest is the export thread's, and the GC's). */
  readonly loopCpuMs: number;
}

async function scrapePart(pid: number, admin: number, proxy: number): Promise<ScrapeRow[]> {
  const rows: ScrapeRow[] = [];
  for (const path of ENDPOINTS) {
    // The histograms keep a minute: touch every name again so that every one has values.
    await touchEveryName(proxy, NAMES);
    const idle = await idleCpuRate(pid);
    const agent = keepAlive();
    const first = await get(admin, path, agent);
    for (let i = 0; i < 2; i++) await get(admin, path, agent);
    const times: number[] = [];
    let bytes = 0;
    const [c0, l0, t0, other] = [cpuMs(pid), cpuMs(pid, pid), performance.now(), otherCpu()];
    for (let i = 0; i < SCRAPES; i++) {
      const r = await get(admin, path, agent);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
      times.push(r.ms);
      bytes = r.bytes;
    }
    const [c1, l1, t1] = [cpuMs(pid), cpuMs(pid, pid), performance.now()];
    agent.destroy();
    const raw = (c1 - c0) / SCRAPES;
    const loopCpuMs = (l1 - l0) / SCRAPES;
    noted(`scrapes of ${path}`, other.end());
    const row = { path, bytes, firstMs: first.ms, wall: stats(times), rawCpuMs: raw, cpuMs: raw - (idle * (t1 - t0)) / SCRAPES, loopCpuMs };
    console.error(`  ${path}: ${(bytes / 1024).toFixed(0)} KiB, median ${ms1(row.wall.median)} ms, p90 ${ms1(row.wall.p90)}, max ${ms1(row.wall.max)}, CPU ${ms1(row.cpuMs)} ms/scrape (event loop ${ms1(loopCpuMs)})`);
    rows.push(row);
  }
  return rows;
}

interface LoadRow {
  readonly round: number;
  readonly scraping: boolean;
  /** A control phase: no scraping, but another process takes `--control` ms of CPU each second. */
  readonly control?: boolean;
  /** A control phase: the same bodies scraped every second from nginx, not from the daemon. */
  readonly sameBytes?: boolean;
  readonly result: WrkResult;
  /** Daemon CPU, % of one core; the event loop's thread's share of it. */
  readonly cpuPercent: number;
  readonly loopCpuPercent: number;
  /** The daemon's garbage collection during the phase (its process/gc metrics): ms, and collections. */
  readonly gc: { readonly ms: number; readonly cycles: number };
  /** Wall time of the scrapes during the phase, ms, by endpoint (in ENDPOINTS' order). */
  readonly scrapes: Stats[] | undefined;
}

type Phase = 'quiet' | 'scraping' | 'control' | 'same-bytes';

async function loadPart(tmp: string, pid: number, admin: number, proxy: number, script: string): Promise<LoadRow[]> {
  const base = { url: `http://127.0.0.1:${proxy}/`, host: 's0', connections: CONNECTIONS, script, rate: RATE };
  await wrk({ ...base, seconds: WARM_UP_S });
  const rows: LoadRow[] = [];
  const controlMs = flags.control === undefined ? undefined : Number(flags.control);
  const phases: Phase[] = ['quiet', 'scraping'];
  if (controlMs !== undefined) phases.push('control');
  let staticPort: number | undefined;
  if (flags['same-bytes']) {
    phases.push('same-bytes');
    staticPort = await freePort();
    const bodies = new Map<string, string>();
    for (const path of ENDPOINTS) bodies.set(path, (await get(admin, path, false, '127.0.0.1', true)).body);
    await staticCopy(tmp, staticPort, bodies);
  }
  // The first Prometheus export works out every line's start (hundreds of ms, once): done
  // before anything is measured, as a daemon scraped all along has.
  for (const path of ENDPOINTS) await get(admin, path, false);
  for (let round = 0; round < ROUNDS; round++) {
    // Each round starts with another phase, so that no phase always follows the same one.
    const order = [...phases.slice(round % phases.length), ...phases.slice(0, round % phases.length)];
    for (const phase of order) {
      const scraping = phase === 'scraping';
      const burner = phase === 'control' ? burnEverySecond(controlMs!) : undefined;
      const scraper = scraping ? await scrapeEvery(admin, SCRAPE_EVERY_S, ENDPOINTS) : phase === 'same-bytes' ? await scrapeEvery(staticPort!, SCRAPE_EVERY_S, ENDPOINTS) : undefined;
      const gc0 = await gcOf(admin);
      const pcap = join(tmp, 'scraping.pcap');
      const capture = scraping && flags.windows ? await startCapture(pcap, [proxy, admin]) : undefined;
      const [c0, l0, t0, other] = [cpuMs(pid), cpuMs(pid, pid), performance.now(), otherCpu()];
      const result = await wrk({ ...base, seconds: SECONDS });
      if (capture !== undefined) {
        await capture.stop();
        const seen = requestsByWindow(readPcap(pcap), proxy, admin);
        captured.requests.push(...seen.requests);
        captured.scrapes.push(...seen.scrapes);
      }
      const wallMs = performance.now() - t0;
      const cpuPercent = ((cpuMs(pid) - c0) / wallMs) * 100;
      const loopCpuPercent = ((cpuMs(pid, pid) - l0) / wallMs) * 100;
      const gc1 = await gcOf(admin);
      const gc = { ms: gc1.ms - gc0.ms, cycles: gc1.cycles - gc0.cycles };
      // The scraper of the same bytes and nginx are this run's own, not other processes.
      noted(`load round ${round + 1} ${phase}`, phase === 'same-bytes' ? 0 : other.end());
      const times = await scraper?.stop();
      // A scraper under SCHED_IDLE may not get the CPU to keep its pace: said, not hidden.
      const expected = Math.floor(SECONDS / SCRAPE_EVERY_S);
      if (times !== undefined && times[0]!.length < expected * 0.8) slowScraper.push(`round ${round + 1} ${phase}: ${times[0]!.length} of ${expected}`);
      burner?.stop();
      const row = { round, scraping, control: phase === 'control', sameBytes: phase === 'same-bytes', result, cpuPercent, loopCpuPercent, gc, scrapes: times?.map(stats) };
      console.error(
        `  round ${round + 1}, ${describePhase(phase, controlMs)}: ${result.rate.toFixed(0)} req/s, p50 ${result.p50} µs, ` +
          `p99 ${result.p99} µs, max ${result.maxUs} µs, CPU ${cpuPercent.toFixed(1)} % (event loop ${loopCpuPercent.toFixed(1)} %), GC ${gc.ms} ms in ${gc.cycles}` +
          (row.scrapes ? `, scrapes ${row.scrapes.map((s) => `${ms1(s.median)}..${ms1(s.max)}`).join(' and ')} ms` : '') +
          (errorCount(result) > 0 ? `, errors ${JSON.stringify(result.errors)}` : ''),
      );
      rows.push(row);
    }
  }
  return rows;
}

function describePhase(phase: Phase, controlMs: number | undefined): string {
  if (phase === 'scraping') return `scraping every ${SCRAPE_EVERY_S} s`;
  if (phase === 'control') return `no scraping, another process busy ${controlMs} ms a second`;
  if (phase === 'same-bytes') return `the same bodies scraped every ${SCRAPE_EVERY_S} s from nginx`;
  return 'no scraping';
}

interface WsRow {
  readonly round: number;
  readonly pages: number;
  readonly cpuPercent: number;
  readonly result: WrkResult;
  /** Per page, per second. */
  readonly messagesPerS: number;
  readonly bytesPerS: number;
}

// The third measurement: the dashboard's WebSocket push. Its feed may not exist yet; a server
// that answers the upgrade with 404 (or anything else) gives 'unavailable' and the run goes on.
async function wsPart(pid: number, admin: number, proxy: number, script: string): Promise<WsRow[] | { unavailable: string }> {
  const url = `ws://127.0.0.1:${admin}/admin/ws`;
  const probe = await openPages(url, 1);
  if ('unavailable' in probe) return probe;
  probe.close();
  const base = { url: `http://127.0.0.1:${proxy}/`, host: 's0', connections: CONNECTIONS, script, rate: WS_RATE };
  await wrk({ ...base, seconds: WARM_UP_S });
  const rows: WsRow[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const pages of [0, PAGES]) {
      const open = pages === 0 ? undefined : await openPages(url, pages);
      if (open !== undefined && 'unavailable' in open) return open;
      await sleep(1000);
      const [m0, b0] = [open?.messages ?? 0, open?.bytes ?? 0];
      const [c0, t0, other] = [cpuMs(pid), performance.now(), otherCpu()];
      const result = await wrk({ ...base, seconds: WS_SECONDS });
      noted(`ws round ${round + 1} ${pages} pages`, other.end());
      const wallS = (performance.now() - t0) / 1000;
      const cpuPercent = ((cpuMs(pid) - c0) / (wallS * 1000)) * 100;
      const per = (x: number) => (pages === 0 ? 0 : x / pages / wallS);
      const row = { round, pages, cpuPercent, result, messagesPerS: per((open?.messages ?? 0) - m0), bytesPerS: per((open?.bytes ?? 0) - b0) };
      open?.close();
      console.error(
        `  round ${round + 1}, ${pages} pages: CPU ${cpuPercent.toFixed(2)} %, ${row.messagesPerS.toFixed(2)} messages/s and ` +
          `${(row.bytesPerS / 1024).toFixed(1)} KiB/s per page; load ${result.rate.toFixed(0)} req/s, p99 ${result.p99} µs`,
      );
      rows.push(row);
      await sleep(1000);
    }
  }
  return rows;
}

// ---- Output ----

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function report(scrape: ScrapeRow[], load: LoadRow[], ws: WsRow[] | { unavailable: string } | undefined): string[] {
  const out: string[] = [];
  const verdicts: string[] = [];
  if (scrape.length > 0) {
    out.push(`| endpoint | body KiB | wall ms: median; p90; max of ${SCRAPES} | first scrape ms | daemon CPU ms per scrape (raw) | of which the event loop's thread |`, '| --- | --- | --- | --- | --- | --- |');
    for (const r of scrape) {
      out.push(`| \`${r.path}\` | ${(r.bytes / 1024).toFixed(0)} | **${ms1(r.wall.median)}**; ${ms1(r.wall.p90)}; ${ms1(r.wall.max)} | ${ms1(r.firstMs)} | ${ms1(r.cpuMs)} (${ms1(r.rawCpuMs)}) | ${ms1(r.loopCpuMs)} |`);
      verdicts.push(`scrape of ${r.path} <= ${SCRAPE_TARGET_MS} ms (p90): ${ms1(r.wall.p90)} ms, ${r.wall.p90 <= SCRAPE_TARGET_MS ? 'met' : 'NOT met'}`);
    }
    out.push('');
  }
  if (load.length > 0) {
    out.push(
      `| round | scraping | achieved req/s (of ${RATE}) | p50 µs | p99 µs | max µs | errors | metrics.json scrape ms: median; max | prometheus scrape ms: median; max | daemon CPU % | of which the event loop's thread |`,
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const r of load) {
      const s = r.scrapes;
      out.push(
        `| ${r.round + 1} | ${r.scraping ? `every ${SCRAPE_EVERY_S} s` : r.control ? `no; another process busy ${flags.control} ms/s` : r.sameBytes ? `no; the same bodies from nginx every ${SCRAPE_EVERY_S} s` : 'no'} | ${r.result.rate.toFixed(0)} | ${r.result.p50} | **${r.result.p99}** | ${r.result.maxUs} | ` +
          `${errorCount(r.result)} | ${ENDPOINTS.map((_, i) => (s ? `${ms1(s[i]!.median)}; ${ms1(s[i]!.max)}` : '-')).join(' | ')} | ${r.cpuPercent.toFixed(1)} | ${r.loopCpuPercent.toFixed(1)} |`,
      );
    }
    const rounds = new Map<number, LoadRow[]>();
    for (const r of load) rounds.set(r.round, [...(rounds.get(r.round) ?? []), r]);
    verdicts.push(...p99Verdicts([...rounds.values()]));
    out.push('');
    if (captured.requests.length > 0) out.push(...windowLines(captured.requests, captured.scrapes), '');
  }
  if (ws !== undefined) {
    if ('unavailable' in ws) {
      out.push(`| pages | daemon CPU % |`, '| --- | --- |', `| ${PAGES} | ws endpoint not available (${ws.unavailable}) |`);
      verdicts.push('ws push: ws endpoint not available');
    } else {
      out.push(`| round | pages | daemon CPU % (${WS_RATE} req/s load) | messages/s per page | KiB/s per page | load p99 µs |`, '| --- | --- | --- | --- | --- | --- |');
      for (const r of ws) out.push(`| ${r.round + 1} | ${r.pages} | **${r.cpuPercent.toFixed(2)}** | ${r.messagesPerS.toFixed(2)} | ${(r.bytesPerS / 1024).toFixed(1)} | ${r.result.p99} |`);
      const delta = mean(ws.filter((r) => r.pages > 0).map((r) => r.cpuPercent)) - mean(ws.filter((r) => r.pages === 0).map((r) => r.cpuPercent));
      verdicts.push(`ws push with ${PAGES} pages: +${delta.toFixed(2)} % of a core over 0 pages; ${delta <= WS_TARGET_CPU ? 'met' : 'NOT met'} (<= ${WS_TARGET_CPU} %)`);
    }
    out.push('');
  }
  const quiet = noisy.length === 0 ? ['Other processes took under 5 % of a core during every measured batch, phase and window.'] : [`Other processes took 5 % of a core or more during: ${noisy.join(', ')}; those figures are not from a quiet machine.`];
  if (slowScraper.length > 0) quiet.push(`The scraper fell behind its pace (scrapes made of those due): ${slowScraper.join(', ')}.`);
  return [...out, ...verdicts.map((v) => `- ${v}`), '', ...quiet];
}

// ---- Main ----

async function main(): Promise<void> {
  ensureNginxAndWrk();
  if (flags.windows) ensureTcpdump();
  const tmp = mkdtempSync(join(tmpdir(), 'dtabd-bench-admin-'));
  stopOnExit(() => rmSync(tmp, { recursive: true, force: true }));
  const t0 = performance.now();
  try {
    const scripts = writeScripts(tmp);
    const spread = spreadScript(scripts.paced, NAMES);
    const upstreamPort = await freePort();
    const conf = nginxConfig(tmp, 'upstream', `  server {\n    listen 127.0.0.1:${upstreamPort} backlog=4096;\n    location / { return 200 "hello, world\\n"; }\n  }`);
    await startNginx(tmp, 'upstream', conf);

    const [port, admin] = [await freePort(), await freePort()];
    const threadMin = flags['thread-min'] === undefined ? '' : `exportThreadMinMetrics: ${num('thread-min', 5000)}`;
    const config = manyNamesConfig(tmp, NAMES, port, admin, upstreamPort, threadMin);
    const profile = flags.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', resolve(flags.profile)];
    const measured = flags.label ?? `dtabd run at ${revision()}`;
    const daemon = await start('dtabd', process.execPath, [...profile, join(REPO, 'src/cli/main.ts'), 'run', config, '--log-level', 'warn'], REPO);
    console.error(`${measured}: first routed 200 after ${(await firstRoutedOk(daemon, port)).toFixed(0)} ms`);

    const statuses = await touchEveryName(port, NAMES);
    const json = async (path: string) => JSON.parse((await get(admin, path, false, '127.0.0.1', true)).body) as Record<string, never>;
    const scopes = countScopes(await json('/admin/metrics.json?tree=1'), await json('/admin/metrics.json'));
    console.error(`one request to each of ${NAMES} names: ${JSON.stringify(Object.fromEntries(statuses))} by status`);
    console.error(`metrics.json: ${scopes.clients} client scopes, ${scopes.services} service scopes, ${scopes.metrics} values`);
    if (statuses.get(200) !== NAMES) throw new Error('not every name answered 200');

    const scrape = ONLY.has('scrape') ? (console.error('scrape:'), await scrapePart(daemon.pid, admin, port)) : [];
    const rssKb = scrape.length > 0 ? memory(daemon.pid)?.rssKb : undefined;
    const load = ONLY.has('load') ? (console.error('load:'), await loadPart(tmp, daemon.pid, admin, port, spread)) : [];
    const ws = ONLY.has('ws') ? (console.error('ws:'), await wsPart(daemon.pid, admin, port, spread)) : undefined;
    await stopAll();

    const threadNote = threadMin === '' ? '' : `, ${threadMin}`;
    const rssNote = rssKb === undefined ? '' : `; RSS after the scrapes ${(rssKb / 1024).toFixed(1)} MB`;
    console.log(`${measured}${threadNote}, ${scopes.clients} clients, ${scopes.services} services, ${scopes.metrics} values in /admin/metrics.json${rssNote}\n`);
    for (const line of report(scrape, load, ws)) console.log(line);
    console.log(
      `\n${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}; wrk -t1 -c${CONNECTIONS} paced, ${SECONDS} s per load phase, ` +
        `${ROUNDS} rounds; ${((performance.now() - t0) / 1000).toFixed(0)} s in all.`,
    );
    console.log(JSON.stringify({ bench: 'admin', measured, threadMin: threadMin || undefined, rssKb, node: process.version, cpus: cpus().length, names: NAMES, scopes, rate: RATE, wsRate: WS_RATE, scrape, load, ws }));
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();

// Load from wrk, read back as JSON. Both scripts end with a `done()` that prints one line of
// JSON from wrk's own summary and latency histogram, which is sturdier than reading wrk's text.
//
// Debian's wrk has no fixed-rate mode (that is wrk2's -R, and Debian does not package wrk2),
// so the paced script uses wrk's `delay()`: before each request, a connection asks how long to
// wait, and the answer hands out the next slot of one shared schedule, one slot every
// 1/rate seconds, so all connections together send `rate` requests a second whatever the
// response times. The clock is clock_gettime through LuaJIT's ffi; without ffi each connection
// waits connections/rate seconds, which undershoots the rate by the response time. wrk takes
// the delay in whole milliseconds, so a request may leave up to half a millisecond early or
// late; the rate over a second is exact.
//
// wrk starts its latency clock when a request is written, not when the schedule wanted it
// written: a response that is late delays the requests behind it on its connection, and that
// wait is not counted (coordinated omission). The paced latencies are therefore lower bounds.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start } from './procs.ts';

const DONE = String.raw`
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"durationUs":%d,"bytes":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"maxUs":%d,"meanUs":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;

const PACED = String.raw`
-- Paced load: every delay() call takes the next slot of a schedule of 'rate' slots a second.
local rate, conns, interval, slot, now_ms
local has_ffi, ffi = pcall(require, "ffi")
if has_ffi then
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clk, bench_timespec *ts);
  ]]
  local ts = ffi.new("bench_timespec")
  now_ms = function()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
end

function init(args)
  rate = tonumber(args[1])
  conns = tonumber(args[2])
  interval = 1000 / rate
end

function delay()
  if not now_ms then
    return math.floor(conns * interval)
  end
  local t = now_ms()
  -- A slot more than 100 ms in the past is given up rather than sent in a burst.
  if slot == nil or slot < t - 100 then slot = t end
  slot = slot + interval
  local d = slot - t
  if d <= 0 then return 0 end
  return math.floor(d + 0.5)
end
`;

export interface WrkResult {
  readonly requests: number;
  readonly durationUs: number;
  readonly bytes: number;
  /** Latency percentiles, µs. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly maxUs: number;
  readonly meanUs: number;
  readonly errors: { connect: number; read: number; write: number; status: number; timeout: number };
  /** requests / duration. */
  readonly rate: number;
}

export interface WrkScripts {
  readonly saturate: string;
  readonly paced: string;
}

/** Writes the two Lua scripts into `dir`. */
export function writeScripts(dir: string): WrkScripts {
  const saturate = join(dir, 'saturate.lua');
  const paced = join(dir, 'paced.lua');
  writeFileSync(saturate, DONE);
  writeFileSync(paced, PACED + DONE);
  return { saturate, paced };
}

export interface WrkRun {
  readonly url: string;
  readonly host: string;
  readonly connections: number;
  readonly seconds: number;
  readonly script: string;
  /** For the paced script: requests per second for all connections together. */
  readonly rate?: number;
}

/** Runs wrk with one thread and gives its summary. */
export async function wrk(run: WrkRun): Promise<WrkResult> {
  const args = [
    '-t1',
    `-c${run.connections}`,
    `-d${run.seconds}s`,
    '--latency',
    '-H',
    `Host: ${run.host}`,
    '-s',
    run.script,
    run.url,
    ...(run.rate === undefined ? [] : ['--', String(run.rate), String(run.connections)]),
  ];
  const p = await start('wrk', 'wrk', args);
  await p.ended;
  const line = p
    .output()
    .split('\n')
    .find((l) => l.startsWith('WRKJSON '));
  if (line === undefined || p.exited()?.code !== 0) throw new Error(`wrk ${args.join(' ')} failed:\n${p.output()}`);
  const r = JSON.parse(line.slice('WRKJSON '.length)) as Omit<WrkResult, 'rate'>;
  return { ...r, rate: r.requests / (r.durationUs / 1e6) };
}

/** Errors of every kind together. */
export function errorCount(r: WrkResult): number {
  const e = r.errors;
  return e.connect + e.read + e.write + e.status + e.timeout;
}

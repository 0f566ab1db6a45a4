// Where in a scrape the slow requests are: a packet capture of the loopback during a scraping
// phase (tcpdump, under the idle scheduling policy, keeping only packets that carry data to or
// from the proxy and the admin port), read here. A request's time is from its first byte in
// to its answer's first byte out on the same connection, as the kernel saw them; a scrape's
// windows are from its request to its first byte (the event loop reads the gauges and the
// export thread writes the first chunks) and from there to its last byte (the body is sent).
// wrk's paced p99 moves by a millisecond between phases here; the share of the slowest
// requests that fall in each window is steadier and says what to look at.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { onPath, sleep, start, stop } from './procs.ts';

/** Installs Debian's tcpdump with apt-get when it is not on PATH. */
export function ensureTcpdump(): void {
  if (onPath('tcpdump')) return;
  console.error('tcpdump is missing: installing it with apt-get');
  const opts = { stdio: 'inherit' as const, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  execFileSync('apt-get', ['update'], opts);
  execFileSync('apt-get', ['install', '-y', 'tcpdump'], opts);
}

/** Captures the data packets of `ports` on the loopback into `file` until stopped. */
export async function startCapture(file: string, ports: readonly number[]): Promise<{ stop(): Promise<void> }> {
  // Packets with a payload only: the IP length less both headers is not zero.
  const filter = `tcp and (${ports.map((p) => `port ${p}`).join(' or ')}) and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)`;
  const p = await start('tcpdump', 'chrt', ['--idle', '0', 'tcpdump', '-i', 'lo', '-n', '-s', '96', '-U', '-w', file, filter]);
  // tcpdump says "listening on lo" once its filter is in place.
  for (let i = 0; i < 100 && !p.output().includes('listening on'); i++) {
    if (p.exited() !== undefined) throw new Error(`tcpdump: ${p.output()}`);
    await sleep(20);
  }
  return { stop: () => stop(p) };
}

export interface Packet {
  /** Seconds. */
  readonly t: number;
  readonly from: number;
  readonly to: number;
  readonly bytes: number;
}

/** The TCP data packets of a pcap file (IPv4 over Ethernet or Linux cooked capture). */
export function readPcap(file: string): Packet[] {
  const b = readFileSync(file);
  if (b.length < 24) return [];
  const magic = b.readUInt32LE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${file}: not a little-endian pcap file`);
  const fraction = magic === 0xa1b23c4d ? 1e9 : 1e6;
  const link = b.readUInt32LE(20);
  const ipAt = link === 1 ? 14 : link === 113 ? 16 : link === 276 ? 20 : -1;
  if (ipAt < 0) throw new Error(`${file}: link type ${link} is not read here`);
  const out: Packet[] = [];
  for (let at = 24; at + 16 <= b.length; ) {
    const t = b.readUInt32LE(at) + b.readUInt32LE(at + 4) / fraction;
    const kept = b.readUInt32LE(at + 8);
    const p = at + 16;
    at = p + kept;
    if (at > b.length) break;
    const ip = p + ipAt;
    if (ip + 20 > at || b[ip]! >> 4 !== 4 || b[ip + 9] !== 6) continue;
    const ipHeader = (b[ip]! & 15) * 4;
    const tcp = ip + ipHeader;
    if (tcp + 20 > at) continue;
    const bytes = b.readUInt16BE(ip + 2) - ipHeader - (b[tcp + 12]! >> 4) * 4;
    if (bytes > 0) out.push({ t, from: b.readUInt16BE(tcp), to: b.readUInt16BE(tcp + 2), bytes });
  }
  return out;
}

export type Window = 'outside scrapes' | "from a scrape's request to its first byte" | 'while the body is sent';
export const WINDOWS: readonly Window[] = ['outside scrapes', "from a scrape's request to its first byte", 'while the body is sent'];

/** Each request's time (µs) and the window it started in; and the scrapes' times (ms). */
export function requestsByWindow(packets: readonly Packet[], proxy: number, admin: number): { requests: { us: number; window: Window }[]; scrapes: { firstByteMs: number; lastByteMs: number }[] } {
  const scrapes: { start: number; first: number; last: number }[] = [];
  let scrape: { start: number; first: number; last: number } | undefined;
  for (const p of packets) {
    if (p.to === admin) {
      // A new request on the admin port: the previous scrape is over.
      if (scrape !== undefined && scrape.first > 0) scrapes.push(scrape);
      scrape = { start: p.t, first: 0, last: 0 };
    } else if (p.from === admin && scrape !== undefined) {
      if (scrape.first === 0) scrape.first = p.t;
      scrape.last = p.t;
    }
  }
  if (scrape !== undefined && scrape.first > 0) scrapes.push(scrape);
  const windowAt = (t: number): Window => {
    for (const s of scrapes) {
      if (t < s.start) break;
      if (t < s.first) return "from a scrape's request to its first byte";
      if (t <= s.last) return 'while the body is sent';
    }
    return 'outside scrapes';
  };
  // By the client's port: the time its request's first byte came, until the answer starts.
  const waiting = new Map<number, number>();
  const requests: { us: number; window: Window }[] = [];
  for (const p of packets) {
    if (p.to === proxy) {
      if (!waiting.has(p.from)) waiting.set(p.from, p.t);
    } else if (p.from === proxy) {
      const t0 = waiting.get(p.to);
      if (t0 === undefined) continue;
      waiting.delete(p.to);
      requests.push({ us: (p.t - t0) * 1e6, window: windowAt(t0) });
    }
  }
  return { requests, scrapes: scrapes.map((s) => ({ firstByteMs: (s.first - s.start) * 1000, lastByteMs: (s.last - s.start) * 1000 })) };
}

export interface WindowRow {
  readonly window: Window;
  /** Of all requests, and of the slowest 1 %, %. */
  readonly sharePercent: number;
  readonly slowestSharePercent: number;
  readonly meanUs: number;
  readonly p90Us: number;
}

/** The requests of every capture together: by window, with the slowest 1 % of all of them. */
export function windowTable(requests: readonly { us: number; window: Window }[]): { rows: WindowRow[]; p99Us: number } {
  const all = requests.map((r) => r.us).sort((a, b) => a - b);
  const p99Us = all[Math.min(all.length - 1, Math.floor(all.length * 0.99))] ?? 0;
  const slow = requests.filter((r) => r.us >= p99Us);
  const rows = WINDOWS.map((window) => {
    const mine = requests.filter((r) => r.window === window).map((r) => r.us).sort((a, b) => a - b);
    return {
      window,
      sharePercent: (100 * mine.length) / Math.max(1, requests.length),
      slowestSharePercent: (100 * slow.filter((r) => r.window === window).length) / Math.max(1, slow.length),
      meanUs: mine.length === 0 ? 0 : mine.reduce((a, b) => a + b, 0) / mine.length,
      p90Us: mine[Math.floor(mine.length * 0.9)] ?? 0,
    };
  });
  return { rows, p99Us };
}

/** The table of {@link windowTable}, with how many requests and scrapes it holds. */
export function windowLines(requests: readonly { us: number; window: Window }[], scrapes: readonly { firstByteMs: number; lastByteMs: number }[]): string[] {
  const { rows, p99Us } = windowTable(requests);
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  return [
    `Requests by where they started in the scraping phases (packet capture): ${requests.length} requests, ${scrapes.length} scrapes ` +
      `(first byte after ${med(scrapes.map((s) => s.firstByteMs)).toFixed(1)} ms, last after ${med(scrapes.map((s) => s.lastByteMs)).toFixed(1)} ms, medians); ` +
      `the slowest 1 % took ${p99Us.toFixed(0)} µs or more, first byte in to first byte out.`,
    '',
    '| window | of the requests | of the slowest 1 % | mean µs | p90 µs |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.window} | ${r.sharePercent.toFixed(1)} % | **${r.slowestSharePercent.toFixed(1)} %** | ${r.meanUs.toFixed(0)} | ${r.p90Us.toFixed(0)} |`),
  ];
}

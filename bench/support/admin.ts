// Helpers of the admin-server benchmark (bench/admin.ts): the daemon's config with one io.l5d.fs
// file per name, timed GETs on one kept-alive connection, requests spread over every name (from
// node for the warm-up, from wrk under load), and dashboard pages held open on the WebSocket feed.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Agent, request } from 'node:http';
import WebSocket from 'ws';
import { fsRouterConfig } from './launchers.ts';
import { quantile } from './measure.ts';
import { nginxConfig, startNginx } from './nginx.ts';

/** `rootDir` with files `s0`..`s<n-1>`, each the upstream's address, named by `Host`; `adminKeys` as fsRouterConfig's. */
export function manyNamesConfig(tmp: string, names: number, port: number, adminPort: number, upstreamPort: number, adminKeys = ''): string {
  const files = Array.from({ length: names }, (_, i) => `s${i}`);
  return fsRouterConfig(tmp, files, port, adminPort, upstreamPort, '  identifier: {kind: io.l5d.header.token, header: Host}\n', adminKeys);
}

export interface Got {
  readonly status: number;
  /** From the call to the response's last byte, ms. */
  readonly ms: number;
  readonly bytes: number;
  readonly body: string;
}

/** One GET; `agent` keeps its connection for the next one (as a scraper does). */
export function get(port: number, path: string, agent: Agent | false, host = '127.0.0.1', keepBody = false): Promise<Got> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { host }, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (keepBody) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, bytes, body: keepBody ? Buffer.concat(chunks).toString('utf8') : '' }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

export const keepAlive = (): Agent => new Agent({ keepAlive: true, maxSockets: 1 });

/** One request for each name `s0`..`s<n-1>` through the proxy, `parallel` at a time; the statuses seen. */
export async function touchEveryName(port: number, names: number, parallel = 16): Promise<Map<number, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < names) {
      const i = next++;
      const r = await get(port, '/', agent, `s${i}`).catch(() => ({ status: 0 }));
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  agent.destroy();
  return statuses;
}

/**
 * Client and service scopes of every router in `/admin/metrics.json?tree=1` (where a client or
 * service id is one element, slashes and all), and the values in the flat form.
 */
export function countScopes(tree: Record<string, unknown>, flat: Record<string, number>): { clients: number; services: number; metrics: number } {
  let clients = 0;
  let services = 0;
  const keys = (o: unknown) => (o !== null && typeof o === 'object' ? Object.keys(o).length : 0);
  for (const router of Object.values((tree['rt'] ?? {}) as Record<string, Record<string, unknown>>)) {
    clients += keys(router['client']);
    services += keys(router['service']);
  }
  return { clients, services, metrics: Object.keys(flat).length };
}

/**
 * The paced wrk script of support/wrk.ts with a `request()` that sends each request to the
 * next name in turn (`Host: s0`, `s1`, ...), so that load falls on every service and client.
 */
export function spreadScript(pacedScript: string, names: number): string {
  const file = pacedScript.replace(/\.lua$/, '-spread.lua');
  const spread = `
local next_name = 0
function request()
  local host = "s" .. next_name
  next_name = (next_name + 1) % ${names}
  return wrk.format("GET", "/", { Host = host })
end
`;
  writeFileSync(file, readFileSync(pacedScript, 'utf8') + spread);
  return file;
}

export interface Stats {
  readonly n: number;
  readonly median: number;
  readonly p90: number;
  readonly max: number;
}

/** Nearest-rank median and p90, and the largest, of some timings. */
export function stats(xs: readonly number[]): Stats {
  if (xs.length === 0) return { n: 0, median: NaN, p90: NaN, max: NaN };
  return { n: xs.length, median: quantile(xs, 0.5), p90: quantile(xs, 0.9), max: quantile(xs, 1) };
}

/** Dashboard pages on the WebSocket feed: what they received since they opened. */
export interface Pages {
  readonly messages: number;
  readonly bytes: number;
  close(): void;
}

/**
 * Opens `n` WebSocket clients on `url` and waits until each has its first message (or 5 s).
 * Gives 'unavailable' with the reason when the server does not upgrade (a 404 before the feed
 * exists).
 */
export async function openPages(url: string, n: number): Promise<Pages | { unavailable: string }> {
  const sockets: WebSocket[] = [];
  let messages = 0;
  let bytes = 0;
  const close = () => {
    for (const s of sockets) s.terminate();
  };
  try {
    await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<void>((resolve, reject) => {
            const ws = new WebSocket(url, { perMessageDeflate: false });
            sockets.push(ws);
            let first = true;
            const timer = setTimeout(resolve, 5000);
            ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode} instead of an upgrade`)));
            ws.on('error', reject);
            ws.on('message', (data: Buffer) => {
              messages++;
              bytes += data.length;
              if (first) {
                first = false;
                clearTimeout(timer);
                resolve();
              }
            });
          }),
      ),
    );
  } catch (e) {
    close();
    return { unavailable: (e as Error).message };
  }
  return {
    get messages() {
      return messages;
    },
    get bytes() {
      return bytes;
    },
    close,
  };
}

/**
 * nginx on `port` serving `bodies` (by path) from files: the bytes of the daemon's scrapes from
 * a server that only sends them, so that a phase scraping it shows what moving those bytes to
 * the scraper costs this machine, apart from anything the daemon does.
 */
export async function staticCopy(tmp: string, port: number, bodies: ReadonlyMap<string, string>): Promise<void> {
  const root = join(tmp, 'static');
  for (const [path, body] of bodies) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), body);
  }
  const conf = nginxConfig(tmp, 'static', `  server {\n    listen 127.0.0.1:${port};\n    root ${root};\n    location / { default_type text/plain; }\n  }`);
  await startNginx(tmp, 'static', conf);
}

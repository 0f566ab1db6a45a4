// End-to-end helpers for proxy tests: a daemon started in-process from a config text (every
// port 0, so tests run side by side), real upstream servers on loopback, and a plain HTTP
// client that shows exactly what came back.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NamingOptions, parseConfigText } from '../../src/config/index.ts';
import { SILENT_LOG } from '../../src/core/index.ts';
import { Daemon } from '../../src/daemon/index.ts';

export interface Upstream {
  readonly server: Server;
  readonly port: number;
  /** Requests seen, with their headers as received. */
  readonly seen: { method: string; url: string; headers: IncomingHttpHeaders; rawHeaders: string[] }[];
  close(): Promise<void>;
}

/** A real HTTP server on loopback; the default handler answers `name` and echoes nothing else. */
export async function upstream(name: string, handler?: (req: IncomingMessage, res: ServerResponse) => void): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
    if (handler !== undefined) return handler(req, res);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
      res.end(name);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A folder for `io.l5d.fs`, removed by `close`. */
export class Disco {
  readonly dir: string;
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'dtabd-disco-'));
  }
  set(name: string, ...ports: number[]): void {
    writeFileSync(join(this.dir, name), ports.map((p) => `127.0.0.1 ${p}\n`).join(''));
  }
  sub(name: string): string {
    const d = join(this.dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  }
  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface RunningDaemon {
  readonly daemon: Daemon;
  /** The bound port of router `label`'s first server (its only one, usually). */
  port(label?: string): number;
  readonly adminPort: number;
  close(graceMs?: number): Promise<void>;
}

/** Starts a daemon from YAML text; `PORT0` placeholders are not needed: every port is 0. */
export async function startDaemon(yaml: string, rescanIntervalMs = 200, naming: NamingOptions = {}): Promise<RunningDaemon> {
  const daemon = await Daemon.start(parseConfigText(yaml, 'test.yaml'), { log: SILENT_LOG, naming: { rescanIntervalMs, ...naming } });
  return {
    daemon,
    adminPort: daemon.admin.port,
    port(label?: string): number {
      for (const s of daemon.servers().values()) if (label === undefined || s.options.label === label) return s.address.port;
      throw new Error(`no server for ${label}`);
    },
    close: (graceMs = 0) => daemon.shutdown(graceMs),
  };
}

/** A config with one http router over `io.l5d.fs` at `dir`, ports 0 everywhere (`adminExtra`: more admin keys, `, key: value`). */
export function fsConfig(dir: string, routerExtra = '', serverExtra = '', adminExtra = ''): string {
  return `admin: {ip: 127.0.0.1, port: 0${adminExtra}}
namers:
- kind: io.l5d.fs
  rootDir: ${dir}
routers:
- protocol: http
  dtab: /svc => /#/io.l5d.fs
${routerExtra}
  servers:
  - port: 0
${serverExtra}
`;
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: string;
}

/** One request on a fresh connection; resolves with the whole response. */
export function send(port: number, options: { method?: string; path?: string; headers?: Record<string, string | string[]>; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent: false, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Polls `f` until it returns true or `ms` pass. */
export async function eventually(f: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

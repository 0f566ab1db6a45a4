// nginx for the proxy benchmark: one process (no master, one worker), its files in a folder of
// the run's own, started and stopped by PID like every other process of the run.

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onPath, type Started, start } from './procs.ts';

export function nginxConfig(dir: string, name: string, http: string): string {
  mkdirSync(join(dir, name), { recursive: true });
  const d = join(dir, name);
  const conf = join(d, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
error_log ${d}/err.log;
pid ${d}/pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${d}/client_body;
  proxy_temp_path ${d}/proxy;
  fastcgi_temp_path ${d}/fastcgi;
  uwsgi_temp_path ${d}/uwsgi;
  scgi_temp_path ${d}/scgi;
  keepalive_requests 1000000;
${http}
}
`,
  );
  return conf;
}

export function startNginx(dir: string, name: string, conf: string): Promise<Started> {
  return start(name, 'nginx', ['-p', join(dir, name), '-e', join(dir, name, 'err.log'), '-c', conf]);
}

/** Installs Debian's nginx-light and wrk with apt-get when either is not on PATH. */
export function ensureNginxAndWrk(): void {
  if (onPath('nginx') && onPath('wrk')) return;
  console.error('nginx or wrk is missing: installing nginx-light and wrk with apt-get');
  const opts = { stdio: ['ignore', 2, 2] as ['ignore', number, number], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  execFileSync('apt-get', ['update'], opts);
  execFileSync('apt-get', ['install', '-y', 'nginx-light', 'wrk'], opts);
}

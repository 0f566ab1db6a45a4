// What stands in dtabd's row of the proxy benchmark: `dtabd run` built from the checked-out
// sources, or any command given with --proxy or --stand-in, and dtabd's config for the run.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface ProxySetup {
  readonly tmp: string;
  readonly port: number;
  readonly upstreamPort: number;
  readonly config: string;
}

/** How to start the proxy measured in dtabd's row, and what to call it in the output. */
export interface Launch {
  readonly label: string;
  readonly cmd: string;
  readonly args: string[];
  readonly cwd?: string;
}

export type Launcher = (s: ProxySetup) => Launch;

// What users run: the package's built JavaScript (`bin`), built here from the checked-out
// sources first. Stripping types at load would add about 30 MB and 150 ms to start-up.
export const dtabdRun: Launcher = (s) => {
  execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json')], { cwd: REPO, stdio: 'inherit' });
  return {
    label: `dtabd run at ${revision()}`,
    cmd: process.execPath,
    args: [join(REPO, 'dist/src/cli/main.js'), 'run', s.config, '--log-level', 'warn'],
    cwd: REPO,
  };
};

/** The commit checked out, and whether src/ differs from it. */
export function revision(): string {
  const git = (args: string[]) => spawnSync('git', args, { cwd: REPO, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git(['rev-parse', '--short', 'HEAD']) || 'an unknown commit';
  return git(['--no-optional-locks', 'status', '--porcelain', '--', 'src']) === '' ? head : `${head} with changes to src/`;
}

export function commandLine(template: string, label: string): Launcher {
  return (s) => {
    const words = template
      .trim()
      .split(/\s+/)
      .map((w) =>
        w
          .replaceAll('{port}', String(s.port))
          .replaceAll('{upstream}', `127.0.0.1:${s.upstreamPort}`)
          .replaceAll('{config}', s.config)
          .replaceAll('{tmp}', s.tmp),
      );
    if (words[0] === 'node') words[0] = process.execPath;
    else if (/\.(ts|js|mjs)$/.test(words[0]!)) words.unshift(process.execPath);
    return { label, cmd: words[0]!, args: words.slice(1) };
  };
}

/** The script a command line runs, or its program. */
export function scriptName(template: string): string {
  const words = template.trim().split(/\s+/);
  return basename(words.find((w) => /\.(ts|js|mjs)$/.test(w)) ?? words[0]!);
}

/**
 * The resilience modules in dtabd's router: `default` leaves linkerd's defaults (consecutive
 * failure accrual, requeues, the default classifier); `off` turns accrual off; `on` adds
 * retries under `retryableRead5XX` with a budget, a total and a per-attempt timeout.
 */
export type Modules = 'default' | 'off' | 'on';

const MODULES: Record<Modules, string> = {
  default: '',
  off: '  client:\n    failureAccrual: {kind: none}\n',
  on:
    '  client:\n    loadBalancer: {kind: ewma}\n    failureAccrual: {kind: io.l5d.consecutiveFailures, failures: 5}\n    requestAttemptTimeoutMs: 10000\n' +
    '  service:\n    responseClassifier: {kind: io.l5d.http.retryableRead5XX}\n' +
    '    retries: {budget: {minRetriesPerSec: 10, percentCanRetry: 0.2, ttlSecs: 10}}\n    totalTimeoutMs: 10000\n',
};

export function dtabdConfig(tmp: string, port: number, adminPort: number, upstreamPort: number, modules: Modules = 'default'): string {
  return fsRouterConfig(tmp, ['web'], port, adminPort, upstreamPort, MODULES[modules]);
}

/**
 * A one-router config over an io.l5d.fs folder in `tmp` whose `files` each hold the upstream's
 * address; `routerKeys` are YAML lines added to the router (two-space indent), `adminKeys`
 * keys added to the admin block (`key: value`, comma-separated).
 */
export function fsRouterConfig(tmp: string, files: readonly string[], port: number, adminPort: number, upstreamPort: number, routerKeys = '', adminKeys = ''): string {
  const disco = join(tmp, 'disco');
  mkdirSync(disco, { recursive: true });
  for (const f of files) writeFileSync(join(disco, f), `127.0.0.1 ${upstreamPort}\n`);
  const config = join(tmp, 'dtabd.yaml');
  writeFileSync(
    config,
    `admin: {ip: 127.0.0.1, port: ${adminPort}${adminKeys === '' ? '' : `, ${adminKeys}`}}
namers:
- kind: io.l5d.fs
  rootDir: ${disco}
routers:
- protocol: http
  dtab: /svc => /#/io.l5d.fs
${routerKeys}  servers:
  - port: ${port}
`,
  );
  return config;
}

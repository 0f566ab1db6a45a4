// `dtabd run CONFIG`: the daemon. Reads and checks the whole config first (nothing starts when
// it is invalid), serves every router, and then follows signals: SIGTERM and SIGINT drain and
// exit, SIGHUP, or with --watch an edit of the file, reloads it (an invalid one keeps the running
// config and says why).

import type { Argv } from 'yargs';
import { watchFile } from 'node:fs';
import pino from 'pino';
import { ConfigFileError, readConfigFile } from '../config/index.ts';
import { Daemon } from '../daemon/index.ts';
import type { Io } from './dtab-command.ts';

export interface RunArgs {
  readonly config: string;
  readonly logLevel: string;
  /** Reload when the config file changes, as on SIGHUP. */
  readonly watch: boolean;
}

export async function runDaemon(io: Io, args: RunArgs): Promise<number> {
  const log = pino({ level: args.logLevel, base: { pid: process.pid } });
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(readConfigFile(args.config), {
      log,
      onStopped: () => process.exit(0),
      logLevel: {
        get: () => log.level,
        set: (level) => {
          if (!(level in log.levels.values) && level !== 'silent') return false;
          log.level = level;
          return true;
        },
      },
    });
  } catch (e) {
    if (e instanceof ConfigFileError) {
      io.err(`${e.message}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    io.err(`dtabd: cannot start: ${err.message}\n`);
    return 1;
  }
  log.info({ admin: `${daemon.config.admin.ip}:${daemon.admin.port}` }, 'admin serving');
  const stop = (signal: string): void => {
    log.info({ signal }, 'shutting down');
    void daemon.shutdown();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  const reload = (why: string): void => {
    if (args.config === '-') {
      log.warn({}, `${why}: the config came from stdin and cannot be read again`);
      return;
    }
    let file;
    try {
      file = readConfigFile(args.config);
    } catch (e) {
      log.error({ error: (e as Error).message }, 'reload failed; the running config stays');
      return;
    }
    daemon.reload(file).then(
      (r) => log.info({ ...r, why }, 'reloaded'),
      (e: Error) => log.error({ error: e.message }, 'reload failed; the running config stays'),
    );
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  if (args.watch && args.config !== '-') {
    // Polled rather than watched: editors replace files, and a replaced file's watch goes quiet.
    watchFile(args.config, { interval: 500, persistent: false }, (now, before) => {
      if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) reload('config file changed');
    });
  }
  // Runs until a signal or POST /admin/shutdown.
  return new Promise<number>(() => {});
}

export function runCommandSpec(io: Io, setExit: (code: number) => void) {
  return {
    command: 'run <config>',
    describe: 'run the daemon with a linkerd config file (YAML or JSON, - for stdin)',
    builder: (y: Argv) =>
      y
        .positional('config', { type: 'string', demandOption: true, describe: 'linkerd config file, - for stdin' })
        .option('log-level', {
          type: 'string',
          nargs: 1,
          default: 'info',
          choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
          describe: 'least severe log level written (JSON lines on stdout)',
        })
        .option('watch', { type: 'boolean', default: false, describe: 'reload when the config file changes, as on SIGHUP' }),
    handler: async (a: { config: string; logLevel: string; watch: boolean }) =>
      setExit(await runDaemon(io, { config: a.config === '' ? '-' : a.config, logLevel: a.logLevel, watch: a.watch })),
  };
}

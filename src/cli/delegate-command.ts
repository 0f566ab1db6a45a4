// `dtabd delegate --config FILE [--router LABEL] [--dtab D] PATH`: the delegation tree of a
// name as a router of that config would produce it, with its namers and interpreter live, so a
// user can debug a name without starting the proxy.

import type { Argv } from 'yargs';
import { ConfigFileError, readConfigFile, routerNaming } from '../config/index.ts';
import { type Log } from '../core/index.ts';
import { type Dtab, DtabParseError, readPath } from '../dtab/index.ts';
import { type Io, parseDtabArg, printDelegation, reportParseError } from './dtab-command.ts';

export interface DelegateOptions {
  readonly config: string;
  readonly router: string | undefined;
  readonly dtab: string | undefined;
  readonly compact: boolean;
  readonly timeoutMs: number;
}

export async function delegateConfigCommand(io: Io, path: string, options: DelegateOptions, log: Log): Promise<number> {
  let naming;
  try {
    naming = routerNaming(readConfigFile(options.config), options.router, { log });
  } catch (e) {
    if (e instanceof ConfigFileError) {
      io.err(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  let dtab: Dtab = naming.dtab;
  if (options.dtab !== undefined) {
    const extra = parseDtabArg(io, options.dtab);
    if (typeof extra === 'number') return extra;
    dtab = dtab.concat(extra);
  }
  let p;
  try {
    p = readPath(path);
  } catch (e) {
    if (e instanceof DtabParseError) return reportParseError(io, 'invalid path', '<path>', e);
    throw e;
  }
  return printDelegation(io, naming.interpreter.delegate(dtab, p), options);
}

/** Registers `delegate`. */
export function delegateCommandSpec(io: Io, setExit: (code: number) => void, log: Log) {
  return {
    command: 'delegate <path>',
    describe: "print a router's delegation tree of a path, with the namers of a config file",
    builder: (y: Argv) =>
      y
        .positional('path', { type: 'string', demandOption: true, describe: 'the name to delegate, e.g. /svc/web' })
        .option('config', { type: 'string', nargs: 1, demandOption: true, describe: 'linkerd config file (YAML or JSON), - for stdin' })
        .option('router', { type: 'string', describe: 'router label (needed when the config has several)' })
        .option('dtab', { type: 'string', nargs: 1, describe: "dtab appended to the router's, like l5d-dtab: text, @file or -" })
        .option('compact', { type: 'boolean', default: false, describe: "linkerd's compact JSON" })
        .option('timeout-ms', { type: 'number', default: 2000, describe: 'wait for addresses at most this long' }),
    handler: async (a: { path: string; config: string; router?: string; dtab?: string; compact: boolean; timeoutMs: number }) =>
      setExit(
        await delegateConfigCommand(
          io,
          a.path,
          { config: a.config, router: a.router, dtab: a.dtab, compact: a.compact, timeoutMs: a.timeoutMs },
          log,
        ),
      ),
  };
}

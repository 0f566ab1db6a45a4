// `dtabd check CONFIG`: reads and checks a linkerd config as `dtabd run` would before starting
// anything, and says what it found. Exit status 1 on an error, placed at its line and key.

import type { Argv } from 'yargs';
import { ConfigFileError, loadLinkerdConfig, readConfigFile } from '../config/index.ts';
import type { Log } from '../core/index.ts';
import type { Io } from './dtab-command.ts';

export function checkConfigCommand(io: Io, file: string, log: Log): number {
  let config;
  try {
    config = loadLinkerdConfig(readConfigFile(file), { log });
  } catch (e) {
    if (e instanceof ConfigFileError) {
      io.err(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const lines = [`admin: ${config.admin.ip}:${config.admin.port}`];
  for (const n of config.naming.namers) lines.push(`namer ${n.kind} at ${n.prefix.show}`);
  for (const r of config.routers) {
    const servers = r.servers.map((s) => `${s.ip}:${s.port}${s.clearContext ? ' (clearContext)' : ''}`).join(', ');
    lines.push(`router ${r.label}: ${r.protocol} on ${servers}; dtab of ${r.dtab.size} dentries; interpreter ${r.interpreter.kind}`);
  }
  io.out(lines.join('\n') + '\n');
  if (config.notApplied.length > 0) io.err(`read but not applied yet: ${config.notApplied.join(', ')}\n`);
  return 0;
}

export function checkCommandSpec(io: Io, setExit: (code: number) => void, log: Log) {
  return {
    command: 'check <config>',
    describe: 'read and check a linkerd config file (YAML or JSON, - for stdin) without starting anything',
    builder: (y: Argv) => y.positional('config', { type: 'string', demandOption: true, describe: 'linkerd config file, - for stdin' }),
    // yargs hands a lone `-` positional over as the empty string.
    handler: (a: { config: string }) => setExit(checkConfigCommand(io, a.config === '' ? '-' : a.config, log)),
  };
}

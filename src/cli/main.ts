#!/usr/bin/env node
// The `dtabd` command line.

import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { dtabCommands, type Io } from './dtab-command.ts';

const io: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  readStdin: () => readFileSync(0, 'utf8'),
};

let exitCode = 0;
const setExit = (code: number): void => {
  exitCode = code;
};

await yargs(hideBin(process.argv))
  .scriptName('dtabd')
  .command('dtab', 'check dtabs and see where names go', dtabCommands(io, setExit))
  .demandCommand(1, 'name a command')
  .strict()
  .help()
  .parseAsync();

process.exitCode = exitCode;

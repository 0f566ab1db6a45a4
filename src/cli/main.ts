#!/usr/bin/env node
// The `dtabd` command line.

import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import pino from 'pino';
import { checkCommandSpec } from './check-command.ts';
import { delegateCommandSpec } from './delegate-command.ts';
import { runCommandSpec } from './run-command.ts';
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

// Warnings (a namer's trouble) go to stderr so that stdout stays the command's output.
const log = pino({ level: process.env.DTABD_LOG_LEVEL ?? 'warn' }, pino.destination(2));

await yargs(hideBin(process.argv))
  .scriptName('dtabd')
  .command('dtab', 'check dtabs and see where names go', dtabCommands(io, setExit))
  .command(delegateCommandSpec(io, setExit, log))
  .command(checkCommandSpec(io, setExit, log))
  .command(runCommandSpec(io, setExit))
  .demandCommand(1, 'name a command')
  .strict()
  .help()
  .parseAsync();

process.exitCode = exitCode;

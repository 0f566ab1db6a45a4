// `dtabd dtab check|lookup|delegate`: the dtab language from the command line, so a user can
// check a dtab and see where a name goes without a running daemon.

import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { type Activity, activityValue } from '../core/index.ts';
import {
  type DelegateTree,
  Dtab,
  DtabParseError,
  readDtab,
  readPath,
  showPathTree,
  stringifyDelegateJson,
} from '../dtab/index.ts';
import { configuredInterpreter, settleDelegation, systemLookup } from '../namer/index.ts';

/** Output and exit status, so the commands can be tested without a process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readStdin(): string;
}

/** Line and column (1-based) of an offset, for errors in multi-line files. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/** Prints a parse error with its position; returns the exit status. */
export function reportParseError(io: Io, what: string, source: string, e: DtabParseError): number {
  const { line, column } = lineColumn(e.input, e.offset);
  io.err(`${what}: ${e.message}\n  at ${source}:${line}:${column}\n`);
  return 1;
}

/** Reads `spec`: `-` for stdin, `@file` for a file, anything else is the dtab text itself. */
function dtabText(io: Io, spec: string): { text: string; source: string } {
  if (spec === '-') return { text: io.readStdin(), source: '<stdin>' };
  if (spec.startsWith('@')) return { text: readFileSync(spec.slice(1), 'utf8'), source: spec.slice(1) };
  return { text: spec, source: '<dtab>' };
}

export function parseDtabArg(io: Io, spec: string): Dtab | number {
  let src: { text: string; source: string };
  try {
    src = dtabText(io, spec);
  } catch (e) {
    io.err(`cannot read dtab: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    return readDtab(src.text);
  } catch (e) {
    if (e instanceof DtabParseError) return reportParseError(io, 'invalid dtab', src.source, e);
    throw e;
  }
}

/** `dtab check [FILE|-]`: the canonical form, one dentry per line with `--lines`. */
export function checkCommand(io: Io, file: string, lines: boolean): number {
  const d = parseDtabArg(io, file === '-' ? '-' : '@' + file);
  if (typeof d === 'number') return d;
  io.out((lines ? d.dentries.map((x) => x.show).join(';\n') : d.show) + '\n');
  return 0;
}

/** `dtab lookup --dtab D PATH`: the name tree the dtab rewrites PATH into. */
export function lookupCommand(io: Io, dtabSpec: string, path: string): number {
  const d = parseDtabArg(io, dtabSpec);
  if (typeof d === 'number') return d;
  try {
    io.out(showPathTree(d.lookup(readPath(path))) + '\n');
    return 0;
  } catch (e) {
    if (e instanceof DtabParseError) return reportParseError(io, 'invalid path', '<path>', e);
    throw e;
  }
}

/**
 * `dtab delegate --dtab D PATH`: the delegation tree as linkerd's delegator JSON, with
 * `/$/inet` names bound (host names through DNS, waited for up to `timeoutMs`).
 */
export function delegateCommand(
  io: Io,
  dtabSpec: string,
  path: string,
  options: { compact: boolean; timeoutMs: number },
): Promise<number> {
  const d = parseDtabArg(io, dtabSpec);
  if (typeof d === 'number') return Promise.resolve(d);
  let p;
  try {
    p = readPath(path);
  } catch (e) {
    if (e instanceof DtabParseError) return Promise.resolve(reportParseError(io, 'invalid path', '<path>', e));
    throw e;
  }
  const interpreter = configuredInterpreter({
    kind: 'default',
    dtab: activityValue(d),
    namers: [],
    transformers: [],
    global: systemLookup(),
  });
  return printDelegation(io, interpreter.delegate(Dtab.empty, p), options);
}

/** Waits for a delegation to settle (at most `timeoutMs`) and prints its JSON; the exit status. */
export async function printDelegation(
  io: Io,
  delegation: Activity<DelegateTree>,
  options: { compact: boolean; timeoutMs: number },
): Promise<number> {
  const r = await settleDelegation(delegation, options.timeoutMs);
  if (r.kind === 'failed') {
    io.err(`delegation failed: ${r.error.message}\n`);
    return 1;
  }
  if (r.kind === 'pending') {
    io.err(`delegation still pending after ${options.timeoutMs} ms\n`);
    return 1;
  }
  io.out((options.compact ? stringifyDelegateJson(r.value) : JSON.stringify(r.value, null, 2)) + '\n');
  return 0;
}

/** Registers the `dtab` command group. */
export function dtabCommands(io: Io, setExit: (code: number) => void) {
  return (y: Argv) =>
    y
      .command(
        'check [file]',
        'parse a dtab and print its canonical form',
        (a) =>
          a
            .positional('file', { type: 'string', default: '-', describe: 'dtab file, or - for stdin' })
            .option('lines', { type: 'boolean', default: false, describe: 'one dentry per line' }),
        (a) => setExit(checkCommand(io, a.file, a.lines)),
      )
      .command(
        'lookup <path>',
        'rewrite a path through a dtab and print the resulting name tree',
        (a) =>
          a
            .positional('path', { type: 'string', demandOption: true })
            .option('dtab', { type: 'string', nargs: 1, demandOption: true, describe: 'dtab text, @file, or - for stdin' }),
        (a) => setExit(lookupCommand(io, a.dtab, a.path)),
      )
      .command(
        'delegate <path>',
        'print the delegation tree of a path as delegator JSON, binding /$/inet names',
        (a) =>
          a
            .positional('path', { type: 'string', demandOption: true })
            .option('dtab', { type: 'string', nargs: 1, demandOption: true, describe: 'dtab text, @file, or - for stdin' })
            .option('compact', { type: 'boolean', default: false, describe: "linkerd's compact JSON" })
            .option('timeout-ms', { type: 'number', default: 2000, describe: 'wait for DNS at most this long' }),
        async (a) => setExit(await delegateCommand(io, a.dtab, a.path, { compact: a.compact, timeoutMs: a.timeoutMs })),
      )
      .demandCommand(1, 'name a dtab command: check, lookup or delegate')
      .strict();
}

// The dtab grammar's entry points: one per start rule of Finagle's parser (spec/dtab.md §3).
// Every function returns a value or throws DtabParseError; nothing else escapes.

import type { Dentry } from '../src/dtab/dentry.ts';
import type { Dtab } from '../src/dtab/dtab.ts';
import type { NameTree } from '../src/dtab/name-tree.ts';
import type { Path } from '../src/dtab/path.ts';
import type { Prefix } from '../src/dtab/prefix.ts';
import { DtabParseError } from './errors.ts';
import { DtabParser, MAX_NESTING } from './parser.ts';
import { tokenize } from './lexer.ts';

export { DtabParseError } from './errors.ts';
export type { Expected } from './errors.ts';
export { MAX_NESTING } from './parser.ts';

let parser: DtabParser | undefined;

/** The parser singleton, built on first use (its self-analysis costs a few milliseconds). */
function instance(): DtabParser {
  return (parser ??= new DtabParser());
}

function run<T>(text: string, prefixes: boolean, rule: (p: DtabParser) => T): T {
  if (typeof text !== 'string') throw new TypeError('dtab text must be a string');
  const p = instance();
  p.begin(text, tokenize(text, prefixes));
  let value: T;
  try {
    value = rule(p);
  } catch (e) {
    // The nesting bound keeps this from happening; if a caller's own stack is nearly spent,
    // the input is still reported as too deep rather than crashing the caller.
    if (e instanceof RangeError && /call stack/i.test(e.message)) throw DtabParseError.tooDeep(text, deepestParen(text), MAX_NESTING);
    throw e;
  }
  const failure = p.failure();
  if (failure !== undefined) throw failure;
  return value;
}

/** Offset of the first `(` at the deepest nesting of `text` (error path only). */
function deepestParen(text: string): number {
  let depth = 0;
  let max = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x28) {
      if (++depth > max) {
        max = depth;
        at = i;
      }
    } else if (c === 0x29 && depth > 0) depth--;
  }
  return at;
}

/** Finagle `Path.read`: e.g. `/svc/web`; `/` is the empty path. */
export function parsePath(text: string): Path {
  return run(text, false, (p) => p.pathAll());
}

/** Finagle `Dentry.Prefix.read`: a path whose elements may be `*`. */
export function parsePrefix(text: string): Prefix {
  return run(text, true, (p) => p.prefixAll());
}

/** Finagle `NameTree.read`: e.g. `/a | 0.5 * /b & /c | ~` (spaces are optional). */
export function parseNameTree(text: string): NameTree<Path> {
  return run(text, false, (p) => p.treeAll());
}

/** Finagle `Dentry.read`: e.g. `/svc => /#/io.l5d.fs`. */
export function parseDentry(text: string): Dentry {
  return run(text, true, (p) => p.dentryAll());
}

/** Finagle `Dtab.read`: dentries separated by `;`, one trailing `;` allowed, `#` comments. */
export function parseDtab(text: string): Dtab {
  return run(text, true, (p) => p.dtabAll());
}

// Reading a linkerd config file: YAML (JSON is YAML too) into plain values, remembering where
// each value stands so a ConfigError can name the line as well as the key path.

import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError } from '../core/index.ts';

export interface ConfigFile {
  /** Where it came from: a file name, or `-` for standard input. */
  readonly source: string;
  /** The parsed value. */
  readonly root: unknown;
  /** Line and column (1-based) of the value at a key path such as `routers[0].dtab`. */
  locate(at: string): { line: number; col: number } | undefined;
}

/** A config problem with where it stands: `config.yaml:12:5: routers[0].dtab: ...`. */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
  readonly source: string;
  readonly line: number | undefined;
  readonly col: number | undefined;
  readonly at: string;

  constructor(source: string, message: string, at = '', line?: number, col?: number) {
    super(`${source}${line !== undefined ? `:${line}:${col ?? 1}` : ''}: ${message}`);
    this.source = source;
    this.at = at;
    this.line = line;
    this.col = col;
  }
}

/** The key path `a.b[2].c` as steps: `['a', 'b', 2, 'c']`. */
function steps(at: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of at.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/** Parses config text. YAML syntax errors come back as ConfigFileError with their line. */
export function parseConfigText(text: string, source: string): ConfigFile {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first !== undefined) {
    const pos = first.linePos?.[0] ?? lineCounter.linePos(first.pos[0]);
    throw new ConfigFileError(source, `not valid YAML: ${first.message.split('\n')[0]}`, '', pos?.line, pos?.col);
  }
  const root: unknown = doc.toJS({ maxAliasCount: 100 });
  return {
    source,
    root: root ?? {},
    locate(at) {
      // The deepest node that exists on the way: a missing key is reported at its parent.
      let path = steps(at);
      while (path.length > 0) {
        const node = doc.getIn(path, true);
        if (isNode(node) && node.range !== undefined && node.range !== null) {
          const p = lineCounter.linePos(node.range[0]);
          return { line: p.line, col: p.col };
        }
        path = path.slice(0, -1);
      }
      return undefined;
    },
  };
}

/** Reads and parses a config file (`-` reads standard input). */
export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new ConfigFileError(file, `cannot read: ${(e as Error).message}`);
  }
  return parseConfigText(text, file);
}

/** A ConfigError from reading `file`'s values, placed at its line. */
export function placeError(file: ConfigFile, e: ConfigError): ConfigFileError {
  const pos = file.locate(e.at);
  return new ConfigFileError(file.source, e.message, e.at, pos?.line, pos?.col);
}

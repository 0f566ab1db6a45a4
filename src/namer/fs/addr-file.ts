// The address files of `io.l5d.fs`: one endpoint per line, `host port` or `host port * weight`,
// with `#` comments and blank lines ignored (spec/linkerd.md §3).

import { ipLiteral } from '../inet.ts';

/** One endpoint of a file: the host as written (an IP or a DNS name), a port, and its weight. */
export interface AddrFileEntry {
  readonly host: string;
  readonly port: number;
  /** Undefined when the line gives none. */
  readonly weight: number | undefined;
}

/** A malformed line: the message quotes it and gives its 1-based number. */
export class AddrFileError extends Error {
  readonly line: number;

  constructor(text: string, line: number, why: string) {
    super(`malformed address: ${text} (line ${line}: ${why})`);
    this.name = 'AddrFileError';
    this.line = line;
  }
}

const WHITESPACE = /\s+/;
// A DNS name (letters, digits, `-`, `_`, dots; at most 253 characters plus a final dot), which
// also covers IPv4 literals and their `127.1` shorthand. IPv6 literals are checked apart.
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})$/;
const PORT = /^[0-9]{1,5}$/;
// Java's Double.parseDouble, minus hex floats and the `d`/`f` suffixes nobody writes here.
const NUMBER = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/**
 * Parses an address file. Any malformed line makes the whole file an error (a half-understood
 * list would silently send traffic to fewer hosts). Repeated `host port` lines are one endpoint
 * (the last weight wins), as the set linkerd builds holds each once.
 * @throws AddrFileError naming the first bad line
 */
export function parseAddrFile(text: string): AddrFileEntry[] {
  const byKey = new Map<string, AddrFileEntry>();
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const raw = text.slice(start, end);
    start = end + 1;
    const hash = raw.indexOf('#');
    const line = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (line.length === 0) continue;
    const fields = line.split(WHITESPACE);
    const shown = raw.trim();
    if (fields.length !== 2 && fields.length !== 4) {
      throw new AddrFileError(shown, lineNo, 'expected `host port` or `host port * weight`');
    }
    const [host, portText, star, weightText] = fields as [string, string, string?, string?];
    // linkerd hands any text to the resolver, which fails at connect time; saying so here
    // points at the line instead (a URL or `host:port` pasted in is the usual mistake).
    if (!HOST_NAME.test(host) && ipLiteral(host) === undefined) {
      throw new AddrFileError(shown, lineNo, `host ${host} is not an IP address or a DNS name`);
    }
    if (!PORT.test(portText)) throw new AddrFileError(shown, lineNo, `port ${portText} is not a number`);
    const port = Number(portText);
    if (port < 1 || port > 65535) throw new AddrFileError(shown, lineNo, `port ${port} is not within 1-65535`);
    let weight: number | undefined;
    if (fields.length === 4) {
      if (star !== '*') throw new AddrFileError(shown, lineNo, 'expected `*` before the weight');
      if (!NUMBER.test(weightText!)) throw new AddrFileError(shown, lineNo, `weight ${weightText} is not a number`);
      weight = Number(weightText);
      if (!Number.isFinite(weight) || weight < 0) throw new AddrFileError(shown, lineNo, `weight ${weightText} is not a finite number >= 0`);
    }
    byKey.set(`${host} ${port}`, { host, port, weight });
  }
  return [...byKey.values()];
}

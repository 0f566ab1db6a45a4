// HTTP/1.1 message heads (RFC 9112), parsed strictly: a request or status line, header fields
// with token names and no folding, and the framing of the body that follows. Anything a
// smuggling attack leans on (Content-Length with Transfer-Encoding, two Content-Lengths, a
// transfer coding other than chunked, a space before the colon, a bare LF) is refused, never
// guessed at.

/** A head that cannot be read: the status to answer with and why. */
export class HeadError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** How the body after a head is delimited. */
export type Framing = 'none' | 'length' | 'chunked' | 'close';

export interface Head {
  /** Request method, or '' in a response. */
  readonly method: string;
  /** Request target, or '' in a response. */
  readonly target: string;
  /** Response status, or 0 in a request. */
  readonly status: number;
  readonly reason: string;
  /** `1.1` or `1.0`. */
  readonly version: string;
  /** Field names and values in order, names as sent, values trimmed. */
  readonly raw: string[];
  framing: Framing;
  /** Body length when `framing` is 'length'. */
  length: number;
  /** The sender keeps the connection open after this message. */
  keepAlive: boolean;
}


/** The offset just past the blank line ending a head in `buf` (from `from`), or -1. */
export function headEnd(buf: Buffer, from: number): number {
  const i = buf.indexOf('\r\n\r\n', from > 3 ? from - 3 : 0, 'latin1');
  return i < 0 ? -1 : i + 4;
}

// tchar of RFC 9110 §5.6.2.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible characters, spaces and tabs, and obs-text (bytes 0x80-0xFF).
const BAD_VALUE = /[\x00-\x08\x0A-\x1F\x7F]/;
/** `s[from..]` without leading and trailing spaces and tabs (optional whitespace, RFC 9110 §5.6.3). */
function trimOws(s: string, from = 0): string {
  let a = from;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return s.slice(a, b);
}
// Request targets: no spaces or controls.
const BAD_TARGET = /[\x00-\x20\x7F]/;

function readFields(lines: string[], raw: string[], isRequest: boolean): void {
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    const c = line.indexOf(':');
    const badStatus = isRequest ? 400 : 502;
    if (c <= 0) throw new HeadError(badStatus, `malformed header line ${i}`);
    const name = line.slice(0, c);
    if (!TOKEN.test(name)) {
      throw new HeadError(badStatus, name.trimEnd() !== name ? `whitespace before the colon in header line ${i}` : `invalid header name on line ${i}`);
    }
    // Optional whitespace is spaces and tabs only (RFC 9110 §5.6.3): String.prototype.trim would
    // also drop vertical tabs, form feeds and no-break spaces, and read `chunked\v` as `chunked`.
    const value = trimOws(line, c + 1);
    if (BAD_VALUE.test(value)) throw new HeadError(badStatus, `invalid character in header ${name}`);
    raw.push(name, value);
  }
}

function splitLines(text: string, isRequest: boolean): string[] {
  // A bare LF or CR inside the head is refused: readers disagreeing on line ends is how
  // requests get smuggled.
  const lines = text.split('\r\n');
  for (const l of lines) {
    if (l.includes('\n') || l.includes('\r')) throw new HeadError(isRequest ? 400 : 502, 'bare CR or LF in the message head');
    if (l.length > 0 && (l.charCodeAt(0) === 32 || l.charCodeAt(0) === 9) && l !== lines[0]) {
      throw new HeadError(isRequest ? 400 : 502, 'obsolete line folding in a header');
    }
  }
  return lines;
}

/** Decides the body framing of a head from its fields (RFC 9112 §6.3). */
function frame(head: Head, isRequest: boolean): void {
  const bad = isRequest ? 400 : 502;
  let length: string | undefined;
  let te: string | undefined;
  let connection = '';
  const raw = head.raw;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === 14 && n.toLowerCase() === 'content-length') {
      if (length !== undefined) throw new HeadError(bad, 'more than one Content-Length');
      length = raw[i + 1]!;
    } else if (n.length === 17 && n.toLowerCase() === 'transfer-encoding') {
      if (te !== undefined) throw new HeadError(bad, 'more than one Transfer-Encoding');
      te = raw[i + 1]!;
    } else if (n.length === 10 && n.toLowerCase() === 'connection') {
      connection += `${raw[i + 1]!.toLowerCase()},`;
    }
  }
  if (length !== undefined && te !== undefined) throw new HeadError(bad, 'both Content-Length and Transfer-Encoding');
  if (te !== undefined) {
    const codings = te.toLowerCase().split(',').map((t) => trimOws(t));
    // Without chunked last the body has no delimiter a proxy can trust (RFC 9112 §6.3): 400.
    if (codings.at(-1) !== 'chunked') throw new HeadError(bad, `Transfer-Encoding ${JSON.stringify(te)} does not end in chunked`);
    if (codings.length > 1) throw new HeadError(isRequest ? 501 : 502, `unsupported Transfer-Encoding ${JSON.stringify(te)}`);
    if (head.version === '1.0') throw new HeadError(bad, 'Transfer-Encoding in an HTTP/1.0 message');
    head.framing = 'chunked';
  } else if (length !== undefined) {
    if (!/^[0-9]{1,15}$/.test(length)) throw new HeadError(bad, `invalid Content-Length ${JSON.stringify(length)}`);
    head.length = Number(length);
    head.framing = head.length === 0 ? 'none' : 'length';
  } else {
    // A request without either has no body; a response reads to the connection's end.
    head.framing = isRequest ? 'none' : 'close';
  }
  const tokens = connection === '' ? [] : connection.split(',').map((t) => t.trim());
  head.keepAlive = head.version === '1.1' ? !tokens.includes('close') : tokens.includes('keep-alive');
  if (head.framing === 'close') head.keepAlive = false;
}

/** Reads a request head (latin1 text without its final blank line). */
export function parseRequestHead(text: string): Head {
  const lines = splitLines(text, true);
  const line = lines[0]!;
  const a = line.indexOf(' ');
  const b = line.lastIndexOf(' ');
  if (a <= 0 || b <= a) throw new HeadError(400, 'malformed request line');
  const method = line.slice(0, a);
  const target = line.slice(a + 1, b);
  const proto = line.slice(b + 1);
  if (!TOKEN.test(method)) throw new HeadError(400, 'invalid method');
  if (target.length === 0 || BAD_TARGET.test(target)) throw new HeadError(400, 'invalid request target');
  let version: string;
  if (proto === 'HTTP/1.1') version = '1.1';
  else if (proto === 'HTTP/1.0') version = '1.0';
  else if (/^HTTP\/\d\.\d$/.test(proto)) throw new HeadError(505, `${proto} is not supported`);
  else throw new HeadError(400, 'malformed request line');
  const raw: string[] = [];
  readFields(lines, raw, true);
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') hosts++;
  // Two Host lines leave it to each reader which one names the service (RFC 9112 §3.2).
  if (hosts > 1) throw new HeadError(400, 'more than one Host header');
  const head: Head = { method, target, status: 0, reason: '', version, raw, framing: 'none', length: 0, keepAlive: true };
  frame(head, true);
  return head;
}

/** Reads a response head (latin1 text without its final blank line). */
export function parseResponseHead(text: string, requestMethod: string): Head {
  const lines = splitLines(text, false);
  const line = lines[0]!;
  const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(line);
  if (m === null) throw new HeadError(502, 'malformed status line');
  const version = m[1] === '1' ? '1.1' : '1.0';
  const status = Number(m[2]);
  const raw: string[] = [];
  readFields(lines, raw, false);
  const head: Head = { method: '', target: '', status, reason: m[3] ?? '', version, raw, framing: 'none', length: 0, keepAlive: true };
  frame(head, false);
  // No body whatever the fields say (RFC 9112 §6.3 rule 1).
  if (requestMethod === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    head.framing = 'none';
    head.length = 0;
  }
  return head;
}

// HTTP/1.1 header handling of the proxy, done in one pass over the raw header list: what is
// hop-by-hop (RFC 9110 §7.6.1: the fixed list and whatever `Connection` names), what the
// router reads and removes (spec/linkerd.md §6), and what `clearContext` drops at an edge.

/** Hop-by-hop headers, never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Headers the router reads and then writes afresh (or drops), never forwarded as received. */
const ROUTER_OWNED = new Set([
  'l5d-dtab',
  'l5d-ctx-dtab',
  'l5d-ctx-trace',
  'l5d-ctx-deadline',
  'l5d-sample',
  'l5d-dst-service',
  'l5d-dst-client',
  'l5d-dst-residual',
  'l5d-reqid',
  'via',
]);

/** What the router takes from a request's headers, and the rest to forward. */
export interface InboundHeaders {
  /** Raw name/value pairs to forward, in order. */
  readonly forward: string[];
  ctxDtab: string[] | undefined;
  userDtab: string[] | undefined;
  trace: string | undefined;
  deadline: string[] | undefined;
  /** The `Via` values received, joined; undefined when there were none. */
  via: string | undefined;
  /** How many proxies the request has been through, by its `Via` entries. */
  viaCount: number;
  /** The `Upgrade` value when `Connection` asks for an upgrade. */
  upgrade: string | undefined;
  /** The body is chunked (`Transfer-Encoding: chunked`). */
  chunked: boolean;
}

/** The lower-case tokens of the `Connection` header values, or undefined when there are none. */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 10 || raw[i]!.toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1]!.split(',')) {
      const tok = t.trim().toLowerCase();
      if (tok !== '') (tokens ??= new Set()).add(tok);
    }
  }
  return tokens;
}

function countVia(value: string): number {
  let n = 1;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) === 44) n++;
  return n;
}

/**
 * Splits a request's raw headers into what the router reads and what it forwards.
 * `clearContext` drops every `l5d-*` header unread (an edge must not let callers steer routing).
 */
export function readRequestHeaders(raw: readonly string[], clearContext: boolean): InboundHeaders {
  const connection = connectionTokens(raw);
  const out: InboundHeaders = {
    forward: [],
    ctxDtab: undefined,
    userDtab: undefined,
    trace: undefined,
    deadline: undefined,
    via: undefined,
    viaCount: 0,
    upgrade: undefined,
    chunked: false,
  };
  const upgradeAsked = connection?.has('upgrade') === true;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'transfer-encoding') out.chunked = true;
      else if (lower === 'upgrade' && upgradeAsked) out.upgrade = value;
      continue;
    }
    if (connection?.has(lower) === true) continue;
    if (lower.startsWith('l5d-')) {
      if (clearContext) continue;
      if (ROUTER_OWNED.has(lower)) {
        if (lower === 'l5d-dtab') (out.userDtab ??= []).push(value);
        else if (lower === 'l5d-ctx-dtab') (out.ctxDtab ??= []).push(value);
        else if (lower === 'l5d-ctx-trace') out.trace ??= value;
        else if (lower === 'l5d-ctx-deadline') (out.deadline ??= []).push(value);
        continue;
      }
    } else if (lower === 'via') {
      out.via = out.via === undefined ? value : `${out.via}, ${value}`;
      out.viaCount += countVia(value);
      continue;
    }
    out.forward.push(name, value);
  }
  return out;
}

/** The first value of header `lower` among raw pairs. */
export function rawHeader(raw: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === lower.length && n.toLowerCase() === lower) return raw[i + 1];
  }
  return undefined;
}

/** Replaces (or adds) header `lower` among raw pairs. */
export function setRawHeader(raw: string[], lower: string, name: string, value: string): void {
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === lower.length && n.toLowerCase() === lower) {
      raw[i + 1] = value;
      // Later duplicates go: the new value stands alone.
      for (let j = raw.length - 2; j > i; j -= 2) {
        const m = raw[j]!;
        if (m.length === lower.length && m.toLowerCase() === lower) raw.splice(j, 2);
      }
      return;
    }
  }
  raw.push(name, value);
}

/**
 * A response's raw headers to send downstream: hop-by-hop ones removed, `Via` extended, and
 * with `clearContext` every `l5d-*` header removed. `keepFraming` keeps `Transfer-Encoding` and
 * `Connection`/`Upgrade` (a 101 answer passed on as it came).
 */
export function responseHeaders(raw: readonly string[], via: string, clearContext: boolean, keepUpgrade = false): string[] {
  const connection = connectionTokens(raw);
  const out: string[] = [];
  let seenVia: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (keepUpgrade && (lower === 'connection' || lower === 'upgrade')) {
      out.push(name, raw[i + 1]!);
      continue;
    }
    if (HOP_BY_HOP.has(lower) || connection?.has(lower) === true) continue;
    if (clearContext && lower.startsWith('l5d-')) continue;
    if (lower === 'via') {
      seenVia = seenVia === undefined ? raw[i + 1]! : `${seenVia}, ${raw[i + 1]!}`;
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  out.push('via', seenVia === undefined ? via : `${seenVia}, ${via}`);
  return out;
}

/** The response carries a router error (`l5d-err`). */
export function hasL5dErr(raw: readonly string[]): boolean {
  return rawHeader(raw, 'l5d-err') !== undefined;
}

/** The `Via` entry this hop adds, by the request's HTTP version. */
export function viaEntry(httpVersion: string): string {
  return httpVersion === '1.0' ? '1.0 linkerd' : '1.1 linkerd';
}

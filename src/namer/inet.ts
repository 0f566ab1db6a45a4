// Addresses for `/$/inet/<host>/<port>`: IP literals parse at once, as Java's InetAddress
// parses them; other host names resolve through DNS (spec/dtab.md §7.2).

import { lookup as dnsLookup } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import type { Closable, Var } from '../core/index.ts';
import { type Addr, Addr as A, address } from '../dtab/index.ts';

/**
 * Parses an IPv4 literal the way Java's `InetAddress` does: one to four decimal parts, the last
 * filling the remaining bytes (`127.1` is 127.0.0.1, `1234` is 0.0.4.210). Returns the dotted
 * quad, or undefined when `host` is not such a literal.
 */
export function parseIPv4Literal(host: string): string | undefined {
  if (host.length === 0 || host.length > 15) return undefined;
  const parts = host.split('.');
  if (parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]{1,10}$/.test(p)) return undefined;
    nums.push(Number(p));
  }
  const last = nums[nums.length - 1]!;
  const lead = nums.slice(0, -1);
  if (lead.some((n) => n > 255)) return undefined;
  const restBytes = 4 - lead.length;
  if (last >= 2 ** (8 * restBytes)) return undefined;
  const bytes = [...lead];
  for (let i = restBytes - 1; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return bytes.join('.');
}

/** The numeric form of an IP literal host (IPv4 shorthand or IPv6, bracketed or not). */
export function ipLiteral(host: string): string | undefined {
  const v4 = parseIPv4Literal(host);
  if (v4 !== undefined) return v4;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIPv6(bare) ? bare : undefined;
}

/** Resolves a host name to its addresses. Injected so tests and tools can stub DNS. */
export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address);

/**
 * A Var of the Addr of `host:port`. A literal (or the empty host, the wildcard address) is
 * bound at once; a name is pending until DNS answers, then bound, or failed if it cannot be
 * resolved.
 */
export function inetAddr(host: string, port: number, resolver: Resolver): Var<Addr> {
  const literal = host === '' ? '0.0.0.0' : ipLiteral(host);
  if (literal !== undefined) return new SettledVar(A.bound([address(literal, port)]));
  return new DnsVar(host, port, resolver);
}

class SettledVar implements Var<Addr> {
  readonly #addr: Addr;
  constructor(addr: Addr) {
    this.#addr = addr;
  }
  sample(): Addr {
    return this.#addr;
  }
  observe(onChange: (value: Addr) => void): Closable {
    onChange(this.#addr);
    return { close() {} };
  }
}

/** Resolves once, on first use, and tells its observers when the answer arrives. */
class DnsVar implements Var<Addr> {
  #addr: Addr = A.pending;
  #started = false;
  readonly #observers = new Set<(a: Addr) => void>();
  readonly #host: string;
  readonly #port: number;
  readonly #resolver: Resolver;

  constructor(host: string, port: number, resolver: Resolver) {
    this.#host = host;
    this.#port = port;
    this.#resolver = resolver;
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#resolver(this.#host).then(
      (ips) => this.#set(ips.length === 0 ? A.neg : A.bound(ips.map((ip) => address(ip, this.#port)))),
      (e: unknown) => this.#set(A.failed(e instanceof Error ? e : new Error(String(e)))),
    );
  }

  #set(a: Addr): void {
    this.#addr = a;
    for (const o of [...this.#observers]) o(a);
  }

  sample(): Addr {
    this.#start();
    return this.#addr;
  }

  observe(onChange: (value: Addr) => void): Closable {
    this.#start();
    this.#observers.add(onChange);
    onChange(this.#addr);
    return { close: () => void this.#observers.delete(onChange) };
  }
}

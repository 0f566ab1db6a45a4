// Addresses for `/$/inet/<host>/<port>`: IP literals parse at once, as Java's InetAddress
// parses them; other host names resolve through DNS (spec/dtab.md §7.2), again and again while
// in use, since DNS answers change.

import { lookup as dnsLookup } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import { asyncVar, constVar, type Var } from '../core/index.ts';
import { type Addr, Addr as A, address, addrEquals } from '../dtab/index.ts';

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

/** How often a resolved host name is looked up again (Finagle's InetResolver polls every 5 s). */
export const DNS_REFRESH_MS = 5000;

export interface InetOptions {
  readonly resolver: Resolver;
  /** Re-resolution interval for host names; {@link DNS_REFRESH_MS} by default. */
  readonly refreshMs?: number;
  /** Told when a refresh fails and the last good addresses are kept. */
  readonly onStale?: (host: string, error: Error) => void;
}

/**
 * A Var of the Addr of `host:port`. A literal (or the empty host, the wildcard address) is
 * bound at once; a name is pending until DNS answers, then bound (or neg when DNS has no
 * address), and re-resolved every `refreshMs` while observed. A failed refresh keeps the last
 * good addresses: a DNS outage must not take a working service down. Only a host that never
 * resolved is failed.
 */
export function inetAddr(host: string, port: number, options: Resolver | InetOptions): Var<Addr> {
  const literal = host === '' ? '0.0.0.0' : ipLiteral(host);
  if (literal !== undefined) return constVar(A.bound([address(literal, port)]));
  const o: InetOptions = typeof options === 'function' ? { resolver: options } : options;
  const refreshMs = o.refreshMs ?? DNS_REFRESH_MS;
  return asyncVar<Addr>(
    A.pending,
    (update) => {
      let stopped = false;
      let hadGood = false;
      let timer: NodeJS.Timeout | undefined;
      const resolve = (): void => {
        o.resolver(host).then(
          (ips) => {
            if (stopped) return;
            hadGood = true;
            update(ips.length === 0 ? A.neg : A.bound(ips.map((ip) => address(ip, port))));
          },
          (e: unknown) => {
            if (stopped) return;
            const error = e instanceof Error ? e : new Error(String(e));
            if (hadGood) o.onStale?.(host, error);
            else update(A.failed(error));
          },
        )
          .finally(() => {
            if (stopped) return;
            timer = setTimeout(resolve, refreshMs);
            timer.unref();
          })
          // An observer's own exception must not surface as an unhandled rejection here.
          .catch(() => {});
      };
      resolve();
      return {
        close() {
          stopped = true;
          if (timer !== undefined) clearTimeout(timer);
        },
      };
    },
    addrEquals,
  );
}

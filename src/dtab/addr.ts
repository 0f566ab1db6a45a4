// Addr: what a bound name currently resolves to (spec/dtab.md §1, §7.6).

/** One endpoint. `host` is the numeric IP once resolved. */
export interface Address {
  readonly host: string;
  readonly port: number;
  readonly meta: Readonly<Record<string, unknown>>;
}

export type AddrMeta = Readonly<Record<string, unknown>>;

export interface AddrBound {
  readonly kind: 'bound';
  readonly addrs: readonly Address[];
  readonly meta: AddrMeta;
}
export interface AddrNeg {
  readonly kind: 'neg';
}
export interface AddrFailed {
  readonly kind: 'failed';
  readonly error: Error;
}
export interface AddrPending {
  readonly kind: 'pending';
}

export type Addr = AddrBound | AddrNeg | AddrFailed | AddrPending;

/** Metadata key linkerd sets on a bound leaf's Addr to carry its union weight. */
export const WEIGHT_META_KEY = 'namer_nametree_weight';

/** Metadata key of one address's own weight (Finagle's weighted address), e.g. from `io.l5d.fs`. */
export const ENDPOINT_WEIGHT_META_KEY = 'endpoint_addr_weight';

const EMPTY_META: AddrMeta = Object.freeze({});

export const Addr = {
  neg: Object.freeze({ kind: 'neg' }) as AddrNeg,
  pending: Object.freeze({ kind: 'pending' }) as AddrPending,
  failed(error: Error): AddrFailed {
    return { kind: 'failed', error };
  },
  bound(addrs: readonly Address[], meta: AddrMeta = EMPTY_META): AddrBound {
    return { kind: 'bound', addrs, meta };
  },
} as const;

export function address(host: string, port: number, meta: AddrMeta = EMPTY_META): Address {
  return { host, port, meta };
}

/** `host:port`, with brackets for IPv6: the key endpoints are compared and sorted by. */
export function addressKey(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function metaEquals(a: AddrMeta, b: AddrMeta): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.is(a[k], b[k])) return false;
  return true;
}

/**
 * Whether two Addrs say the same thing: the same state, and for bound ones the same set of
 * endpoints (in any order) with the same metadata. Sources use it to drop repeated updates.
 */
export function addrEquals(a: Addr, b: Addr): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'failed') return a.error.message === (b as AddrFailed).error.message;
  if (a.kind !== 'bound') return true;
  const bb = b as AddrBound;
  if (a.addrs.length !== bb.addrs.length || !metaEquals(a.meta, bb.meta)) return false;
  const keyed = new Map<string, Address>();
  for (const x of a.addrs) keyed.set(addressKey(x), x);
  for (const y of bb.addrs) {
    const x = keyed.get(addressKey(y));
    if (x === undefined || !metaEquals(x.meta, y.meta)) return false;
  }
  return true;
}

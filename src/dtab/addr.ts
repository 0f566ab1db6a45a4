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

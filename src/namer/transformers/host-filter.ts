// `io.l5d.localhost` and `io.l5d.specificHost`: keep only the addresses on one host, so a
// per-host daemon sends to the instance beside it. A name left with no address is neg.

import { networkInterfaces } from 'node:os';
import { mapVar } from '../../core/index.ts';
import { type Addr, Addr as A, readPath } from '../../dtab/index.ts';
import { inetAddr } from '../inet.ts';
import type { TransformerKind } from '../transformer.ts';
import { mappingTransformer } from './mapping.ts';

/** linkerd's class for both: it filters by subnet, here always a single host's address. */
const DELEGATION_NAME = 'SubnetLocalTransformer';

/** The addresses in `addr` whose host is one of `hosts`; none left is neg. */
function keepHosts(addr: Addr, hosts: ReadonlySet<string>): Addr {
  if (addr.kind !== 'bound') return addr;
  const kept = addr.addrs.filter((a) => hosts.has(a.host));
  return kept.length === 0 ? A.neg : A.bound(kept, addr.meta);
}

/** Every address of this host's network interfaces, loopback included. */
export function localAddresses(): ReadonlySet<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) out.add(i.address);
  }
  return out;
}

export const localhostTransformerKind: TransformerKind<Record<string, never>> = {
  kind: 'io.l5d.localhost',
  defaultPrefix: () => readPath('/io.l5d.localhost'),
  parseConfig: () => ({}),
  create: (_config, ctx) => {
    const hosts = localAddresses();
    return mappingTransformer('io.l5d.localhost', DELEGATION_NAME, ctx.prefix, (addr) => keepHosts(addr, hosts));
  },
};

export interface SpecificHostConfig {
  readonly host: string;
}

export const specificHostTransformerKind: TransformerKind<SpecificHostConfig> = {
  kind: 'io.l5d.specificHost',
  defaultPrefix: () => readPath('/io.l5d.specificHost'),
  parseConfig: (config) => {
    const host = config.string('host');
    if (host.trim() === '') throw config.error('host', 'must not be empty');
    return { host };
  },
  create: (config, ctx) => {
    // A host name resolves (and re-resolves) like `/$/inet`; until it does, names are pending.
    const hosts = mapVar(inetAddr(config.host, 0, ctx.resolver), hostSet);
    return mappingTransformer('io.l5d.specificHost', DELEGATION_NAME, ctx.prefix, (addr, use) => {
      const h = use(hosts);
      return h instanceof Set ? keepHosts(addr, h) : (h as Addr);
    });
  },
};

/** The hosts of a resolved Addr, or the Addr itself when it has none to offer. */
function hostSet(a: Addr): ReadonlySet<string> | Addr {
  return a.kind === 'bound' ? new Set(a.addrs.map((x) => x.host)) : a;
}

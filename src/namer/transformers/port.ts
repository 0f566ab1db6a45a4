// `io.l5d.port`: sends to a fixed port on each address's host, typically the incoming router
// of the dtabd on that host (linker-to-linker).

import { type ConfigReader } from '../../core/index.ts';
import { Addr, address, readPath } from '../../dtab/index.ts';
import type { TransformerKind } from '../transformer.ts';
import { mappingTransformer } from './mapping.ts';

export interface PortConfig {
  readonly port: number;
}

/**
 * linkerd names this transformer's delegation steps after the helper object that builds them,
 * not after the transformer; the delegator shows the same name.
 */
const DELEGATION_NAME = 'DelegatingNameTreeTransformer$';

export const portTransformerKind: TransformerKind<PortConfig> = {
  kind: 'io.l5d.port',
  defaultPrefix: (config) => readPath(`/io.l5d.port/${config.port}`),
  parseConfig: (config: ConfigReader) => ({ port: config.integer('port', 1, 65535) }),
  create: (config, ctx) =>
    mappingTransformer('io.l5d.port', DELEGATION_NAME, ctx.prefix, (addr) =>
      addr.kind === 'bound' ? Addr.bound(addr.addrs.map((a) => address(a.host, config.port, a.meta)), addr.meta) : addr,
    ),
};

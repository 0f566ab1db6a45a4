// The transformer kinds dtabd ships. The Kubernetes ones (`io.l5d.k8s.daemonset`,
// `io.l5d.k8s.localnode`) join this list with the Kubernetes namer.

import type { TransformerKind } from '../transformer.ts';
import { localhostTransformerKind, specificHostTransformerKind } from './host-filter.ts';
import { portTransformerKind } from './port.ts';
import { constTransformerKind, replaceTransformerKind } from './replace.ts';

export const transformerKinds: readonly TransformerKind<never>[] = [
  portTransformerKind,
  localhostTransformerKind,
  specificHostTransformerKind,
  replaceTransformerKind,
  constTransformerKind,
] as TransformerKind<never>[];

export { localAddresses } from './host-filter.ts';
export type { PortConfig } from './port.ts';
export type { SpecificHostConfig } from './host-filter.ts';
export type { FixedPathConfig } from './replace.ts';

// Identifiers: the HTTP kinds, and a router's `identifier` config (one object or a list tried
// in order) built into one function.

import { ConfigError, ConfigReader } from '../../core/index.ts';
import type { Path } from '../../dtab/index.ts';
import {
  headerIdentifierKind,
  headerTokenIdentifierKind,
  methodAndHostIdentifierKind,
  pathIdentifierKind,
  staticIdentifierKind,
} from './http.ts';
import type { Identifier, IdentifierKind } from './identifier.ts';

export type { Identification, Identifier, IdentifierKind, IdentifyRequest } from './identifier.ts';
export { identified, unidentified, uriPath } from './identifier.ts';

export const HTTP_IDENTIFIER_KINDS: readonly IdentifierKind<never>[] = [
  headerTokenIdentifierKind,
  methodAndHostIdentifierKind,
  pathIdentifierKind,
  headerIdentifierKind,
  staticIdentifierKind,
] as IdentifierKind<never>[];

/** linkerd HTTP identifiers that need systems dtabd does not talk to yet. */
const LATER = ['io.l5d.ingress', 'io.l5d.k8s.istio', 'io.l5d.k8s.istio-ingress'];

/** The default identifier of an HTTP router: the `Host` header as one element. */
export function defaultHttpIdentifier(dstPrefix: Path): Identifier {
  return headerTokenIdentifierKind.create({ header: 'Host' }, dstPrefix);
}

function one(raw: unknown, at: string, dstPrefix: Path, kinds: readonly IdentifierKind<never>[]): Identifier {
  const config = new ConfigReader(raw, at);
  const kindName = config.optionalString('kind');
  if (kindName === undefined) throw config.error('kind', 'is required (the identifier kind, e.g. io.l5d.path)');
  const kind = kinds.find((k) => k.kind === kindName);
  if (kind === undefined) {
    if (LATER.includes(kindName)) throw config.error('kind', `identifier kind ${kindName} is not supported yet`);
    throw config.error('kind', `unknown identifier kind ${JSON.stringify(kindName)}; known kinds: ${kinds.map((k) => k.kind).join(', ')}`);
  }
  const parsed = kind.parseConfig(config);
  config.done();
  return kind.create(parsed as never, dstPrefix);
}

/**
 * A router's identifier from its config: absent is the default; a list is tried in order, the
 * first that identifies wins, and when none does the last one's reason is given (as linkerd).
 */
export function identifierFromConfig(
  raw: unknown,
  at: string,
  dstPrefix: Path,
  kinds: readonly IdentifierKind<never>[] = HTTP_IDENTIFIER_KINDS,
): Identifier {
  if (raw === undefined || raw === null) return defaultHttpIdentifier(dstPrefix);
  if (!Array.isArray(raw)) return one(raw, at, dstPrefix, kinds);
  if (raw.length === 0) throw new ConfigError(at, 'an identifier list must not be empty');
  const all = raw.map((r, i) => one(r, `${at}[${i}]`, dstPrefix, kinds));
  if (all.length === 1) return all[0]!;
  return (req) => {
    let result = all[0]!(req);
    for (let i = 1; i < all.length && result.kind === 'unidentified'; i++) result = all[i]!(req);
    return result;
  };
}

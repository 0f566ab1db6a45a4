// What an identifier is: a synchronous function from a request to a logical name (linkerd's
// Identifier, `Dst.Path`), and the kinds a router's `identifier` config may name.

import type { ConfigReader } from '../../core/index.ts';
import type { Path } from '../../dtab/index.ts';

/** The parts of an HTTP request identifiers read. */
export interface IdentifyRequest {
  readonly method: string;
  /** The request target in origin form (`/a/b?q`), after an absolute URI was rewritten. */
  readonly uri: string;
  readonly httpVersion: string;
  /** The first value of a header; `name` is lower-case. */
  header(name: string): string | undefined;
}

export type Identification =
  | { readonly kind: 'identified'; readonly path: Path; readonly uri: string | undefined }
  | { readonly kind: 'unidentified'; readonly reason: string };

/**
 * Names a request, or says why it cannot. `uri` in the answer, when set, replaces the request's
 * (`io.l5d.path` with `consume`). Never throws.
 */
export type Identifier = (req: IdentifyRequest) => Identification;

export interface IdentifierKind<C> {
  readonly kind: string;
  /** Reads this kind's keys (`kind` is already read). Throws ConfigError naming the key. */
  parseConfig(config: ConfigReader): C;
  /** `dstPrefix` is the router's (`/svc` by default). */
  create(config: C, dstPrefix: Path): Identifier;
}

export function identified(path: Path, uri?: string): Identification {
  return { kind: 'identified', path, uri };
}

export function unidentified(reason: string): Identification {
  return { kind: 'unidentified', reason };
}

/** The path part of a request target, without the query. */
export function uriPath(uri: string): string {
  const q = uri.indexOf('?');
  return q < 0 ? uri : uri.slice(0, q);
}

// linkerd's HTTP identifiers (spec/linkerd.md §2), producing names byte for byte as linkerd does.

import { asError } from '../../core/index.ts';
import { Path, readPath } from '../../dtab/index.ts';
import { readPathKey } from '../../namer/index.ts';
import { identified, type Identifier, type IdentifierKind, type IdentifyRequest, unidentified, uriPath } from './identifier.ts';

/**
 * A header's value as a name under `dstPrefix`: as one element (`io.l5d.header.token`: `Host:
 * web:8080` is `/svc/web:8080`), or read as a path (`io.l5d.header`: `l5d-name: /a/b` is
 * `/svc/a/b`). A missing or empty header does not identify.
 */
function headerIdentifier(header: string, dstPrefix: Path, asPath: boolean): Identifier {
  const key = header.toLowerCase();
  const absent = unidentified(`${header} header is absent`);
  return (req) => {
    const value = req.header(key);
    if (value === undefined || value === '') return absent;
    try {
      return identified(dstPrefix.concat(asPath ? readPath(value) : Path.of(value)));
    } catch (e) {
      return unidentified(asError(e).message);
    }
  };
}

export const headerTokenIdentifierKind: IdentifierKind<{ header: string }> = {
  kind: 'io.l5d.header.token',
  parseConfig: (config) => ({ header: config.optionalString('header') ?? 'Host' }),
  create: (config, dstPrefix) => headerIdentifier(config.header, dstPrefix, false),
};

export const headerIdentifierKind: IdentifierKind<{ header: string }> = {
  kind: 'io.l5d.header',
  parseConfig: (config) => ({ header: config.optionalString('header') ?? 'l5d-name' }),
  create: (config, dstPrefix) => headerIdentifier(config.header, dstPrefix, true),
};

/**
 * `/<prefix>/1.1/<METHOD>/<host lower-cased>` (HTTP/1.1, Host required) or
 * `/<prefix>/1.0/<METHOD>` (HTTP/1.0), followed by the URI's path when `httpUriInDst`.
 */
export const methodAndHostIdentifierKind: IdentifierKind<{ httpUriInDst: boolean }> = {
  kind: 'io.l5d.methodAndHost',
  parseConfig: (config) => ({ httpUriInDst: config.optionalBoolean('httpUriInDst') ?? false }),
  create: (config, dstPrefix) => (req: IdentifyRequest) => {
    try {
      const suffix = config.httpUriInDst ? readPath(uriPath(req.uri)) : Path.empty;
      if (req.httpVersion === '1.0') return identified(dstPrefix.concat(Path.of('1.0', req.method)).concat(suffix));
      if (req.httpVersion !== '1.1') return unidentified(`Unknown HTTP version HTTP/${req.httpVersion}`);
      const host = req.header('host');
      if (host === undefined || host === '') return unidentified('HTTP/1.1 request missing hostname');
      return identified(dstPrefix.concat(Path.of('1.1', req.method, host.toLowerCase())).concat(suffix));
    } catch (e) {
      return unidentified(asError(e).message);
    }
  },
};

/** Java's `String.split("/")`: trailing empty strings dropped. */
function javaSplitSlash(s: string): string[] {
  const parts = s.split('/');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * The first `segments` elements of the URI's path; with `consume`, the request goes on without
 * them (query and trailing slash kept). Too few segments do not identify; an empty segment
 * (`//`) does not either, since no name has an empty element.
 */
export const pathIdentifierKind: IdentifierKind<{ segments: number; consume: boolean }> = {
  kind: 'io.l5d.path',
  parseConfig: (config) => ({
    segments: config.optionalInteger('segments', 1, 1000) ?? 1,
    consume: config.optionalBoolean('consume') ?? false,
  }),
  create: (config, dstPrefix) => {
    const tooFew = unidentified('not enough segments in path');
    return (req) => {
      const path = uriPath(req.uri);
      const parts = javaSplitSlash(path).slice(1);
      if (parts.length < config.segments) return tooFew;
      const taken = parts.slice(0, config.segments);
      if (taken.includes('')) return unidentified('empty segment in path');
      const name = dstPrefix.concat(Path.of(...taken));
      if (!config.consume) return identified(name);
      const rest = parts.slice(config.segments);
      const q = req.uri.indexOf('?');
      const query = q < 0 ? '' : req.uri.slice(q);
      const uri = rest.length === 0 ? '/' : '/' + rest.join('/') + (path.endsWith('/') ? '/' : '');
      return identified(name, uri + query);
    };
  },
};

/** Every request gets `dstPrefix ++ path`. */
export const staticIdentifierKind: IdentifierKind<{ path: Path }> = {
  kind: 'io.l5d.static',
  parseConfig: (config) => {
    const path = readPathKey(config, 'path');
    if (path === undefined) throw config.error('path', 'is required');
    return { path };
  },
  create: (config, dstPrefix) => {
    const answer = identified(dstPrefix.concat(config.path));
    return () => answer;
  },
};

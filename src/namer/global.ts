// The system namers under `/$/` (Finagle's `Namer.global`, spec/dtab.md §7.2): `inet` and
// `fixedinet` bind host and port, `nil` is empty, `fail` fails, and any other kind is looked up
// among registered system namers, failing as linkerd's UnknownNamer when there is none.

import { type ActivityState, ok } from '../core/index.ts';
import { BoundName, Empty, Fail, type Lookup, type Name, type NameTree, Neg, Path, UnknownNamerError } from '../dtab/index.ts';
import { inetAddr, type Resolver, systemResolver } from './inet.ts';

/** A system namer reached as `/$/<kind>/<rest...>`; it is handed `<rest...>`. */
export type SystemNamer = (rest: Path, full: Path) => ActivityState<NameTree<Name>>;

export interface GlobalNamerOptions {
  /** DNS for `/$/inet` host names; the system resolver by default. */
  readonly resolver?: Resolver;
  /** Further `/$/<kind>` namers by kind. */
  readonly systemNamers?: ReadonlyMap<string, SystemNamer>;
}

const NEG = ok(Neg);
const FAIL = ok(Fail);
const EMPTY = ok(Empty);

/** Java's `Integer.parseInt`, as Scala's `toInt` does it: optional sign, decimal digits, 32 bits. */
function parseJavaInt(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}

/**
 * The `/$/` namer. Paths outside `/$/` are `~`. Bound inet names get the id
 * `/$/inet/<host>/<port>` (or `/$/inet/<port>`), and the rest of the path is their residual.
 */
export function globalNamer(options: GlobalNamerOptions = {}): Lookup {
  const resolver = options.resolver ?? systemResolver;
  const kinds = options.systemNamers ?? new Map<string, SystemNamer>();
  const inet = (path: Path): ActivityState<NameTree<Name>> | undefined => {
    const e = path.elems;
    // host/port first: `/$/inet/1234/5678` is host 1234, port 5678.
    if (e.length >= 4) {
      const port = parseJavaInt(path.elemText(3));
      if (port !== undefined) return bindInet(path, path.elemText(2), port, 4);
    }
    if (e.length >= 3) {
      const port = parseJavaInt(path.elemText(2));
      if (port !== undefined) return bindInet(path, '', port, 3);
    }
    return undefined;
  };
  const bindInet = (path: Path, host: string, port: number, idSize: number): ActivityState<NameTree<Name>> => {
    if (port < 0 || port > 65535) return { kind: 'failed', error: new RangeError(`port out of range:${port}`) };
    const bound = new BoundName(inetAddr(host, port, resolver), path.take(idSize), path.drop(idSize));
    return ok({ kind: 'leaf', value: bound });
  };
  return (path) => {
    const e = path.elems;
    if (e.length < 2 || e[0] !== '$') return NEG;
    const kind = e[1]!;
    if (kind === 'inet' || kind === 'fixedinet') {
      const r = inet(path);
      if (r !== undefined) return r;
    } else if (kind === 'fail') {
      return FAIL;
    } else if (kind === 'nil') {
      return EMPTY;
    }
    const namer = kinds.get(kind);
    if (namer !== undefined) return namer(path.drop(2), path);
    return { kind: 'failed', error: new UnknownNamerError(path.elemText(1), path.show) };
  };
}

/**
 * linkerd's order for the namers behind a dtab (spec/dtab.md §7.1 steps 2-3): each configured
 * namer whose prefix starts the path, in configuration order, until one answers other than
 * `~`; then the system namers.
 */
export function namersLookup(configured: readonly (readonly [Path, Lookup])[], global: Lookup): Lookup {
  if (configured.length === 0) return global;
  return (path) => {
    for (const [prefix, namer] of configured) {
      if (!path.startsWith(prefix)) continue;
      const r = namer(path.drop(prefix.size));
      if (r.kind !== 'ok' || r.value.kind !== 'neg') return r;
    }
    return global(path);
  };
}

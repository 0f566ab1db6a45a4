// The system namers under `/$/` (Finagle's `Namer.global`, spec/dtab.md §7.2): `inet` and
// `fixedinet` bind host and port, `nil` is empty, `fail` fails, and any other kind is looked up
// among registered system namers, failing as linkerd's UnknownNamer when there is none.

import { LRUCache } from 'lru-cache';
import { type ActivityState, type Ok, ok, type Var } from '../core/index.ts';
import { type Addr, BoundName, Empty, Fail, type Lookup, type Name, type NameTree, Neg, Path, UnknownNamerError } from '../dtab/index.ts';
import { type InetOptions, inetAddr, type Resolver, systemResolver } from './inet.ts';

/** How many `/$/inet` names and address sources are remembered. */
const CACHE_SIZE = 10_000;

/** A system namer reached as `/$/<kind>/<rest...>`; it is handed `<rest...>`. */
export type SystemNamer = (rest: Path, full: Path) => ActivityState<NameTree<Name>>;

export interface GlobalNamerOptions {
  /** DNS for `/$/inet` host names; the system resolver by default. */
  readonly resolver?: Resolver;
  /** Re-resolution interval of `/$/inet` host names (5 s by default). */
  readonly refreshMs?: number;
  /** Told when a DNS refresh fails and the last good addresses are kept. */
  readonly onStale?: (host: string, error: Error) => void;
  /** Further `/$/<kind>` namers by kind. */
  readonly systemNamers?: ReadonlyMap<string, SystemNamer>;
}

const NEG = ok(Neg);
const FAIL = ok(Fail);
const EMPTY = ok(Empty);

/**
 * Java's `Integer.parseInt`, as Scala's `toInt` does it: optional sign, decimal digits, 32 bits.
 * Java also takes other Unicode decimal digits; only ASCII ones are read here.
 */
export function parseJavaInt(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}

/**
 * The `/$/` namer. Paths outside `/$/` are `~`. Bound inet names get the id
 * `/$/inet/<host>/<port>` (or `/$/inet/<port>`), and the rest of the path is their residual.
 */
export function globalNamer(options: GlobalNamerOptions = {}): Lookup {
  const inetOptions: InetOptions = {
    resolver: options.resolver ?? systemResolver,
    ...(options.refreshMs !== undefined && { refreshMs: options.refreshMs }),
    ...(options.onStale !== undefined && { onStale: options.onStale }),
  };
  const kinds = options.systemNamers ?? new Map<string, SystemNamer>();
  // The same path gives the same bound name, and the same host and port the same address
  // source, so that binding again yields an equal tree and one DNS poll serves every path
  // to a host. Bounded: a flood of distinct names recycles the least recently used.
  const addrs = new LRUCache<string, Var<Addr>>({ max: CACHE_SIZE });
  const names = new LRUCache<string, Ok<NameTree<Name>>>({ max: CACHE_SIZE });
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
    const key = path.show;
    let answer = names.get(key);
    if (answer === undefined) {
      const hostPort = `${host}:${port}`;
      let addr = addrs.get(hostPort);
      if (addr === undefined) addrs.set(hostPort, (addr = inetAddr(host, port, inetOptions)));
      answer = ok({ kind: 'leaf', value: new BoundName(addr, path.take(idSize), path.drop(idSize)) });
      names.set(key, answer);
    }
    return answer;
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

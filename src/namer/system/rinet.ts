// `/$/io.buoyant.rinet/<port>/<host>[/residual]`: /$/inet with the port first, which lets a
// dtab rule append the host after a fixed port (linkerd's io.buoyant.rinet).

import { LRUCache } from 'lru-cache';
import { failed, ok, type Ok, type Var } from '../../core/index.ts';
import { type Addr, BoundName, type Name, type NameTree, Path } from '../../dtab/index.ts';
import { parseJavaInt, type SystemNamer } from '../global.ts';
import { type InetOptions, inetAddr, type Resolver } from '../inet.ts';
import { NEG_STATE } from './rewriting.ts';

/** How many names and address sources are remembered (as for /$/inet). */
const CACHE_SIZE = 10_000;

const RINET = Path.of('$', 'io.buoyant.rinet');

/**
 * The rinet namer. Fewer than two elements is `~`. Otherwise the name binds to the addresses of
 * host and port, with id `/$/io.buoyant.rinet/<port>/<host>` and the rest as residual. A port
 * that is not a number fails with Java's NumberFormatException text; one outside 0-65535 fails
 * as /$/inet does.
 *
 * linkerd hands `host:port` to Finagle's inet resolver, which refuses a host holding `:`, a
 * space or a comma; here the host is resolved as given, so an IPv6 literal binds.
 */
export function rinetNamer(resolver: Resolver | InetOptions): SystemNamer {
  // The same name gives the same bound name and the same host and port the same address
  // source, so binding again yields an equal tree and one DNS poll serves every residual.
  // Bounded: a flood of distinct names recycles the least recently used.
  const addrs = new LRUCache<string, Var<Addr>>({ max: CACHE_SIZE });
  const names = new LRUCache<string, Ok<NameTree<Name>>>({ max: CACHE_SIZE });
  return (rest) => {
    if (rest.size < 2) return NEG_STATE;
    const key = rest.show;
    const known = names.get(key);
    if (known !== undefined) return known;
    const portText = rest.elemText(0);
    const port = parseJavaInt(portText);
    // Java's NumberFormatException text, the port quoted as JSON so that control characters
    // in it stay visible (and out of any header the message reaches).
    if (port === undefined) return failed(new Error(`For input string: ${JSON.stringify(portText)}`));
    if (port < 0 || port > 65535) return failed(new RangeError(`port out of range:${port}`));
    const host = rest.elemText(1);
    const hostPort = `${host}:${port}`;
    let addr = addrs.get(hostPort);
    if (addr === undefined) addrs.set(hostPort, (addr = inetAddr(host, port, resolver)));
    const answer = ok<NameTree<Name>>({ kind: 'leaf', value: new BoundName(addr, RINET.concat(rest.take(2)), rest.drop(2)) });
    names.set(key, answer);
    return answer;
  };
}

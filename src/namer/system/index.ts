// linkerd's bundled system namers, reached as `/$/<class name>/...` (spec/linkerd.md §3):
// io.buoyant.rinet, which binds, and the rewriting ones, which answer paths to look up again.

import type { SystemNamer } from '../global.ts';
import type { InetOptions, Resolver } from '../inet.ts';
import { hostportPfx, porthostPfx } from './hostport.ts';
import {
  anyHost,
  anyHostPfx,
  anyMethod,
  anyMethodPfx,
  domainToPath,
  domainToPathPfx,
  subdomainOf,
  subdomainOfPfx,
} from './http.ts';
import { rinetNamer } from './rinet.ts';

/**
 * The bundled system namers keyed by linkerd's class name, for `globalNamer`'s
 * `systemNamers`. `resolver` serves io.buoyant.rinet's host names.
 * @example globalNamer({ resolver, systemNamers: systemNamers(resolver) })
 */
export function systemNamers(resolver: Resolver | InetOptions): ReadonlyMap<string, SystemNamer> {
  return new Map<string, SystemNamer>([
    ['io.buoyant.rinet', rinetNamer(resolver)],
    ['io.buoyant.hostportPfx', hostportPfx],
    ['io.buoyant.porthostPfx', porthostPfx],
    ['io.buoyant.http.anyMethod', anyMethod],
    ['io.buoyant.http.anyMethodPfx', anyMethodPfx],
    ['io.buoyant.http.anyHost', anyHost],
    ['io.buoyant.http.anyHostPfx', anyHostPfx],
    ['io.buoyant.http.subdomainOf', subdomainOf],
    ['io.buoyant.http.subdomainOfPfx', subdomainOfPfx],
    ['io.buoyant.http.domainToPath', domainToPath],
    ['io.buoyant.http.domainToPathPfx', domainToPathPfx],
  ]);
}

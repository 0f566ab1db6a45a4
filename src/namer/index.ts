// Public surface of namer/: the namers that turn concrete names into addresses.
export { globalNamer, namersLookup } from './global.ts';
export type { GlobalNamerOptions, SystemNamer } from './global.ts';
export { inetAddr, ipLiteral, parseIPv4Literal, systemResolver } from './inet.ts';
export type { Resolver } from './inet.ts';

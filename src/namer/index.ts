// Public surface of namer/: the namers that turn concrete names into addresses, the
// transformers applied to bound names, and the interpreter that binds names through them.
export { globalNamer } from './global.ts';
export type { GlobalNamerOptions, SystemNamer } from './global.ts';
export { DNS_REFRESH_MS, inetAddr, ipLiteral, parseIPv4Literal, systemResolver } from './inet.ts';
export type { InetOptions, Resolver } from './inet.ts';
export type { Namer, NamerContext, NamerKind } from './namer.ts';
export type { Transformer, TransformerContext, TransformerKind } from './transformer.ts';
export { NamerRegistry, readPathKey } from './registry.ts';
export type { ConfiguredNamer, NamerEnv } from './registry.ts';
export { applyTransformers, configuredInterpreter, namersLookup, transformDelegate } from './interpreter.ts';
export type { ConfiguredInterpreterOptions, Interpreter } from './interpreter.ts';
export { dtabFileStatus, dtabFromFile, interpreterFromConfig } from './interpreters.ts';
export type { DtabFileStatus, InterpreterEnv } from './interpreters.ts';
export { BindingCache, DEFAULT_BINDING_CACHE_SIZE, DEFAULT_BINDING_IDLE_MS } from './binding-cache.ts';
export type { BindingCacheOptions, BindingState } from './binding-cache.ts';
export { delegationLeaves, settleDelegation, watchDelegation } from './delegation.ts';
export { builtinRegistry, globalBinder, systemLookup } from './builtin.ts';
export { systemNamers } from './system/index.ts';
export { PathMatcher, PathMatcherError } from './path-matcher.ts';
export { rewriteNamerKind } from './rewrite.ts';
export type { RewriteConfig } from './rewrite.ts';
export { localAddresses, transformerKinds } from './transformers/index.ts';
export type { FixedPathConfig, PortConfig, SpecificHostConfig } from './transformers/index.ts';
export { activeWatches, AddrFileError, FsNamer, fsNamerKind, parseAddrFile, watchDir, watchFile } from './fs/index.ts';
export type { AddrFileEntry, FsConfig, Listing, WatchOptions } from './fs/index.ts';

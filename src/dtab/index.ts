// Public surface of dtab/: names, dtabs and name trees, and the pure algorithms over them.
export { Path, elemFromText, elemToBytes } from './path.ts';
export { Prefix, ANY_ELEM } from './prefix.ts';
export { Dentry, showPath } from './dentry.ts';
export { Dtab, showPathTree } from './dtab.ts';
export type { NameTree, Leaf, Alt, Union, Weighted } from './name-tree.ts';
export {
  Neg,
  Fail,
  Empty,
  DEFAULT_WEIGHT,
  leaf,
  alt,
  union,
  weighted,
  mapTree,
  simplify,
  evalTree,
  treeEquals,
} from './name-tree.ts';
export { showTree, formatWeight } from './show.ts';
export type { Address, AddrBound, AddrNeg, AddrFailed, AddrPending, AddrMeta } from './addr.ts';
export { Addr, address, addressKey, addrEquals, ENDPOINT_WEIGHT_META_KEY, WEIGHT_META_KEY } from './addr.ts';
export { BoundName, sameBinding } from './name.ts';
export type { Name } from './name.ts';
export { NamerExceededMaxDepthError, UnknownNamerError, DelegationDepthError } from './errors.ts';
export { bind, boundTreeEquals, dtabLookup, resolveAddr, DEFAULT_MAX_DEPTH } from './bind.ts';
export type { Lookup, LookupState } from './bind.ts';
export { delegate, simplifyDelegate, DELEGATE_MAX_DEPTH } from './delegate.ts';
export type { DelegateTree, DelegateWeighted } from './delegate.ts';
export { delegateToJson, stringifyDelegateJson, addrToJson, javaDouble } from './delegate-json.ts';
export type { AddrOf, DelegateJson, AddrJson, BoundJson, DentryJson } from './delegate-json.ts';
export { readDtab, readDentry, readNameTree, readPath, readPrefix, DtabParseError, MAX_NESTING } from './read.ts';
export { DtabCache } from './dtab-cache.ts';

// Errors raised while binding and delegating names (spec/dtab.md §7.2, §7.5, §10).

/** A name was rewritten more times than the depth limit allows (Finagle's default is 100). */
export class NamerExceededMaxDepthError extends Error {
  override readonly name = 'NamerExceededMaxDepthError';
  readonly code = 'L5D_MAX_DEPTH';
  constructor(maxDepth: number) {
    super(`Max recursion level: ${maxDepth} reached in Namer lookup`);
  }
}

/** A `/$/<kind>` path names no system namer (linkerd's `UnknownNamer`). */
export class UnknownNamerError extends Error {
  override readonly name = 'UnknownNamerError';
  readonly code = 'L5D_UNKNOWN_NAMER';
  readonly kind: string;
  constructor(kind: string, path: string) {
    super(`Unknown namer: ${kind} for path: ${path}`);
    this.kind = kind;
  }
}

/** Delegation went deeper than its own limit (linkerd's delegator message). */
export class DelegationDepthError extends Error {
  override readonly name = 'DelegationDepthError';
  readonly code = 'L5D_MAX_DEPTH';
  constructor() {
    super('Max recursion level reached.');
  }
}

// Activity states: a computation that is pending, has a value, or has failed (twitter/util
// `Activity.State`). Namer lookups and bindings report their results in this shape.

export interface Pending {
  readonly kind: 'pending';
}
export interface Ok<T> {
  readonly kind: 'ok';
  readonly value: T;
}
export interface Failed {
  readonly kind: 'failed';
  readonly error: Error;
}

export type ActivityState<T> = Pending | Ok<T> | Failed;

export const PENDING: Pending = Object.freeze({ kind: 'pending' });

export function ok<T>(value: T): Ok<T> {
  return { kind: 'ok', value };
}

export function failed(error: Error): Failed {
  return { kind: 'failed', error };
}

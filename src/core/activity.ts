// Activity<T>: a Var of a computation's state, pending, ok with a value, or failed (twitter/util
// `Activity`). Namer lookups and bindings are Activities.

import { asyncVar, type Cell, cell, constVar, derivedVar, type Equals, type Use, type Var } from './var.ts';

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

/** A changing computation state. */
export type Activity<T> = Var<ActivityState<T>>;

export const PENDING: Pending = Object.freeze({ kind: 'pending' });

export function ok<T>(value: T): Ok<T> {
  return { kind: 'ok', value };
}

export function failed(error: Error): Failed {
  return { kind: 'failed', error };
}

/** Any thrown value as an Error. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Equality of states: same kind, values equal by `valueEquals`, failures with the same error
 * object or the same class and message (a source that fails the same way again is no change).
 */
export function stateEquals<T>(valueEquals: Equals<T> = Object.is): Equals<ActivityState<T>> {
  return (a, b) => {
    if (a === b) return true;
    if (a.kind !== b.kind) return false;
    if (a.kind === 'ok') return valueEquals(a.value, (b as Ok<T>).value);
    if (a.kind === 'failed') {
      const x = a.error;
      const y = (b as Failed).error;
      return x === y || (x.constructor === y.constructor && x.message === y.message);
    }
    return true;
  };
}

/** An activity that is always ok with `value`. */
export function activityValue<T>(value: T): Activity<T> {
  return constVar(ok(value));
}

/** An activity that is always failed. */
export function activityFailed<T>(error: Error): Activity<T> {
  return constVar(failed(error));
}

/** An activity that stays pending. */
export function activityPending<T>(): Activity<T> {
  return constVar(PENDING);
}

/** The ok value of `a` mapped by `f`; a throwing `f` gives failed. */
export function mapActivity<A, B>(a: Activity<A>, f: (a: A) => B, equals?: Equals<B>): Activity<B> {
  return derivedVar<ActivityState<B>>(
    PENDING,
    (use) => {
      const s = use(a);
      if (s.kind !== 'ok') return s;
      try {
        return ok(f(s.value));
      } catch (e) {
        return failed(asError(e));
      }
    },
    stateEquals(equals),
  );
}

/**
 * An activity computed from others: `compute` reads activities' states (or any Var) through
 * `use` and returns a state; it runs again when one of them changes. A throw becomes failed.
 */
export function derivedActivity<T>(compute: (use: Use) => ActivityState<T>, equals?: Equals<T>): Activity<T> {
  return derivedVar<ActivityState<T>>(
    PENDING,
    (use) => {
      try {
        return compute(use);
      } catch (e) {
        return failed(asError(e));
      }
    },
    stateEquals(equals),
  );
}

/** twitter/util `Activity.flatMap`: the activity `f` gives for `a`'s ok value. */
export function flatMapActivity<A, B>(a: Activity<A>, f: (a: A) => Activity<B>, equals?: Equals<B>): Activity<B> {
  return derivedActivity((use) => {
    const s = use(a);
    return s.kind === 'ok' ? use(f(s.value)) : s;
  }, equals);
}

/**
 * twitter/util `Activity.collect`: ok with every value once all are ok; failed with the first
 * failure (in order) if any failed; pending otherwise.
 */
export function collectActivities<T>(as: readonly Activity<T>[]): Activity<readonly T[]> {
  return derivedActivity<readonly T[]>((use) => {
    const values: T[] = [];
    let pending = false;
    for (const a of as) {
      const s = use(a);
      if (s.kind === 'failed') return s;
      if (s.kind === 'pending') pending = true;
      else values.push(s.value);
    }
    return pending ? PENDING : ok(values);
  });
}

/**
 * twitter/util `Activity.stabilize`: once `a` has been ok, its later pending and failed states
 * are hidden and the last ok value stays. Before the first ok, states pass through.
 */
export function stabilize<T>(a: Activity<T>, equals?: Equals<T>): Activity<T> {
  return asyncVar<ActivityState<T>>(
    PENDING,
    (update) => {
      let lastOk: Ok<T> | undefined;
      return a.observe((s) => {
        if (s.kind === 'ok') {
          lastOk = s;
          update(s);
        } else if (lastOk === undefined) {
          update(s);
        }
      });
    },
    stateEquals(equals),
  );
}

/**
 * A writable activity (twitter/util's witness): the activity, and a function that sets its
 * state. Starts pending. For tests and for sources driven by callbacks.
 */
export function witness<T>(initial: ActivityState<T> = PENDING): [Activity<T>, (state: ActivityState<T>) => void] {
  const c: Cell<ActivityState<T>> = cell(initial);
  return [c, (s) => c.update(s)];
}

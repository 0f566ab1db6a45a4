// Var<T>: a value that may change, observed by callbacks (twitter/util `Var` semantics).
//
// This file holds the interface the dtab and namer layers program against, plus the constant
// and derived forms the binder needs. Sources that start and stop with their observers build
// on the same interface.

/** Something that can be closed; closing twice is harmless. */
export interface Closable {
  close(): void;
}

/** A changing value. */
export interface Var<T> {
  /** The current value. */
  sample(): T;
  /** Calls `onChange` synchronously with the current value, then on every change, until closed. */
  observe(onChange: (value: T) => void): Closable;
}

const NOOP_CLOSABLE: Closable = Object.freeze({ close() {} });

class ConstVar<T> implements Var<T> {
  readonly #value: T;
  constructor(value: T) {
    this.#value = value;
  }
  sample(): T {
    return this.#value;
  }
  observe(onChange: (value: T) => void): Closable {
    onChange(this.#value);
    return NOOP_CLOSABLE;
  }
}

class MappedVar<A, B> implements Var<B> {
  readonly #source: Var<A>;
  readonly #f: (a: A) => B;
  constructor(source: Var<A>, f: (a: A) => B) {
    this.#source = source;
    this.#f = f;
  }
  sample(): B {
    return this.#f(this.#source.sample());
  }
  observe(onChange: (value: B) => void): Closable {
    const f = this.#f;
    return this.#source.observe((a) => onChange(f(a)));
  }
}

/** A Var that never changes. */
export function constVar<T>(value: T): Var<T> {
  return new ConstVar(value);
}

/** A Var whose value is `f` of `source`'s. */
export function mapVar<A, B>(source: Var<A>, f: (a: A) => B): Var<B> {
  return new MappedVar(source, f);
}

// Var<T>: a value that changes over time, observed by callbacks (twitter/util `Var`).
//
// Sources are reference-counted: a source built with `asyncVar` starts when its first observer
// arrives and stops when its last observer closes, so a watch runs only while something needs
// it. Every source drops an update equal to its current value (by `Object.is`, or the `equals`
// it was given), so a namer that re-sends the same answer causes no work downstream.
//
// `derivedVar` is the piece the binder is built on: it runs a computation that reads other Vars
// through `use`, observes exactly the Vars the last run read, and runs again when one changes.

/** Something that can be closed; closing twice is harmless. */
export interface Closable {
  close(): void;
}

/** A changing value. */
export interface Var<T> {
  /** The current value. On a stopped source this starts it and stops it again (twitter/util). */
  sample(): T;
  /** Calls `onChange` synchronously with the current value, then on every change, until closed. */
  observe(onChange: (value: T) => void): Closable;
}

/** A Var whose value is set from outside (twitter/util `Var.apply` with `update`). */
export interface Cell<T> extends Var<T> {
  update(value: T): void;
}

export type Equals<T> = (a: T, b: T) => boolean;

export const NOOP_CLOSABLE: Closable = Object.freeze({ close() {} });

/** One closable for many: closes each once, in order. */
export function closeAll(closables: readonly Closable[]): Closable {
  let done = false;
  return {
    close() {
      if (done) return;
      done = true;
      for (const c of closables) c.close();
    },
  };
}

/**
 * The observer list and change propagation shared by every source. Observers are notified in
 * the order they arrived; one that closes during a notification is not called afterwards, and
 * an update made by an observer is delivered after the current one has reached everybody.
 */
abstract class Source<T> implements Var<T> {
  protected value: T;
  readonly #equals: Equals<T>;
  // A Set keeps arrival order and survives deletion while being iterated, so adding or
  // closing one of many thousands of observers costs O(1) (Set iteration skips deleted
  // entries). Each entry is its own object, so one function observing twice is two entries.
  readonly #observers = new Set<Observer<T>>();
  #seq = 0;
  #delivering = false;
  #queued: T[] | undefined;
  #live = false;

  constructor(initial: T, equals: Equals<T> | undefined) {
    this.value = initial;
    this.#equals = equals ?? Object.is;
  }

  /** Number of open observations (for tests and state pages). */
  get observerCount(): number {
    return this.#observers.size;
  }

  /** Called when the first observer arrives. */
  protected abstract start(): void;
  /** Called when the last observer leaves. */
  protected abstract stop(): void;

  sample(): T {
    if (this.#live) return this.value;
    const c = this.observe(NOOP);
    const v = this.value;
    c.close();
    return v;
  }

  observe(onChange: (value: T) => void): Closable {
    // The first observer starts the source before it joins, so what the source sets while
    // starting reaches it once, as the current value below.
    if (!this.#live) {
      this.#live = true;
      this.start();
    }
    const entry: Observer<T> = { seq: ++this.#seq, onChange };
    this.#observers.add(entry);
    onChange(this.value);
    let open = true;
    return {
      close: () => {
        if (!open) return;
        open = false;
        this.#observers.delete(entry);
        if (this.#observers.size === 0 && this.#live) {
          this.#live = false;
          this.stop();
        }
      },
    };
  }

  /** Sets the value and tells the observers, unless it equals the current one. */
  protected set(v: T): void {
    if (this.#delivering) {
      (this.#queued ??= []).push(v);
      return;
    }
    if (this.#equals(this.value, v)) return;
    this.value = v;
    this.#delivering = true;
    try {
      this.#deliver(v);
      while (this.#queued !== undefined && this.#queued.length > 0) {
        const next = this.#queued.shift()!;
        if (this.#equals(this.value, next)) continue;
        this.value = next;
        this.#deliver(next);
      }
    } finally {
      this.#delivering = false;
      this.#queued = undefined;
    }
  }

  #deliver(v: T): void {
    // Observers that arrive during this round got the value when they joined; those that
    // close during it are gone from the Set, and its iteration skips them.
    const last = this.#seq;
    let thrown: { error: unknown } | undefined;
    for (const o of this.#observers) {
      if (o.seq > last) break;
      // One observer's exception must not keep the value from the others; the first is
      // rethrown once all have it.
      try {
        o.onChange(v);
      } catch (e) {
        thrown ??= { error: e };
      }
    }
    if (thrown !== undefined) throw thrown.error;
  }
}

const NOOP = (): void => {};

interface Observer<T> {
  /** Arrival number: a round delivers only to observers that were there when it began. */
  readonly seq: number;
  readonly onChange: (value: T) => void;
}

class WritableCell<T> extends Source<T> implements Cell<T> {
  protected start(): void {}
  protected stop(): void {}
  update(value: T): void {
    this.set(value);
  }
  override sample(): T {
    return this.value;
  }
}

/** A Var set by `update` (a witness for tests, or the end of a callback-driven source). */
export function cell<T>(initial: T, equals?: Equals<T>): Cell<T> {
  return new WritableCell(initial, equals);
}

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

/** A Var that never changes. */
export function constVar<T>(value: T): Var<T> {
  return new ConstVar(value);
}

class AsyncVar<T> extends Source<T> {
  readonly #initial: T;
  readonly #run: (update: (value: T) => void) => Closable;
  #running: Closable | undefined;
  #generation = 0;

  constructor(initial: T, run: (update: (value: T) => void) => Closable, equals: Equals<T> | undefined) {
    super(initial, equals);
    this.#initial = initial;
    this.#run = run;
  }

  protected start(): void {
    const generation = ++this.#generation;
    // Updates from a run that has been stopped are ignored.
    this.#running = this.#run((v) => {
      if (generation === this.#generation) this.set(v);
    });
  }

  protected stop(): void {
    this.#generation++;
    const r = this.#running;
    this.#running = undefined;
    // A stopped source forgets its value: the next start begins from the initial one.
    this.value = this.#initial;
    r?.close();
  }
}

/**
 * twitter/util `Var.async`: a Var whose source runs only while observed. `run` is called when
 * the first observer arrives, with a function that sets the value; the Closable it returns is
 * closed when the last observer leaves, and the value goes back to `initial`.
 */
export function asyncVar<T>(initial: T, run: (update: (value: T) => void) => Closable, equals?: Equals<T>): Var<T> {
  return new AsyncVar(initial, run, equals);
}

/** A Var whose value is `f` of `source`'s (computed per observation; cheap `f`s only). */
export function mapVar<A, B>(source: Var<A>, f: (a: A) => B): Var<B> {
  return {
    sample: () => f(source.sample()),
    observe: (onChange) => source.observe((a) => onChange(f(a))),
  };
}

/** Reads a Var inside a {@link derivedVar} computation, observing it from then on. */
export type Use = <U>(v: Var<U>) => U;

interface Dependency {
  value: unknown;
  closable: Closable;
  used: boolean;
}

class DerivedVar<T> extends Source<T> {
  readonly #initial: T;
  readonly #compute: (use: Use) => T;
  #deps = new Map<Var<unknown>, Dependency>();
  #running = false;
  #dirty = false;
  #active = false;
  readonly #use: Use;

  constructor(initial: T, compute: (use: Use) => T, equals: Equals<T> | undefined) {
    super(initial, equals);
    this.#initial = initial;
    this.#compute = compute;
    this.#use = <U>(v: Var<U>): U => this.#read(v) as U;
  }

  #read(v: Var<unknown>): unknown {
    let dep = this.#deps.get(v);
    if (dep === undefined) {
      const d: Dependency = { value: undefined, closable: NOOP_CLOSABLE, used: true };
      let initial = true;
      this.#deps.set(v, d);
      d.closable = v.observe((x) => {
        d.value = x;
        if (!initial) this.#changed();
      });
      initial = false;
      dep = d;
    }
    dep.used = true;
    return dep.value;
  }

  #changed(): void {
    if (!this.#active) return;
    if (this.#running) {
      this.#dirty = true;
      return;
    }
    this.#recompute();
  }

  #recompute(): void {
    this.#running = true;
    let result: T;
    try {
      do {
        this.#dirty = false;
        for (const d of this.#deps.values()) d.used = false;
        result = this.#compute(this.#use);
        // Stop observing what this run did not read.
        for (const [v, d] of this.#deps) {
          if (!d.used) {
            this.#deps.delete(v);
            d.closable.close();
          }
        }
      } while (this.#dirty && this.#active);
    } finally {
      this.#running = false;
    }
    if (this.#active) this.set(result);
  }

  protected start(): void {
    this.#active = true;
    this.#recompute();
  }

  protected stop(): void {
    this.#active = false;
    const deps = [...this.#deps.values()];
    this.#deps = new Map();
    this.value = this.#initial;
    for (const d of deps) d.closable.close();
  }
}

/**
 * A Var computed from other Vars: `compute` reads them through `use`, and runs again whenever
 * one it read last time changes. It observes exactly the Vars its last run read (a branch not
 * taken is not watched), only while it is itself observed. `compute` must not throw; encode
 * failure in the value (an Activity's failed state).
 * @example derivedVar(0, (use) => use(a) + use(b))
 */
export function derivedVar<T>(initial: T, compute: (use: Use) => T, equals?: Equals<T>): Var<T> {
  return new DerivedVar(initial, compute, equals);
}

/** twitter/util `Var.flatMap`: the Var `f` gives for `source`'s current value. */
export function flatMapVar<A, B>(source: Var<A>, f: (a: A) => Var<B>, initial: B, equals?: Equals<B>): Var<B> {
  return derivedVar(initial, (use) => use(f(use(source))), equals);
}

/** twitter/util `Var.collect`: the values of several Vars as one array. */
export function collectVars<T>(vars: readonly Var<T>[]): Var<readonly T[]> {
  return derivedVar<readonly T[]>([], (use) => vars.map((v) => use(v)), arraysEqual);
}

function arraysEqual<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

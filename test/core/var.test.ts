// Var and Activity: twitter/util semantics (observe, sample, map, flatMap, collect,
// stabilize), reference-counted sources, deduplication, and the tracking derived Var.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ActivityState,
  activityValue,
  asyncVar,
  cell,
  collectActivities,
  collectVars,
  constVar,
  derivedActivity,
  derivedVar,
  failed,
  flatMapActivity,
  flatMapVar,
  mapActivity,
  mapVar,
  ok,
  PENDING,
  stabilize,
  stateEquals,
  type Var,
  witness,
} from '../../src/core/index.ts';

/** Every value `v` delivers until closed, and the closer. */
function record<T>(v: Var<T>): { values: T[]; close: () => void } {
  const values: T[] = [];
  const c = v.observe((x) => values.push(x));
  return { values, close: () => c.close() };
}

/** A source that counts its starts and stops, and exposes its update function. */
function counted<T>(initial: T) {
  const s = { starts: 0, stops: 0, update: (_: T): void => {} };
  const v = asyncVar(initial, (update) => {
    s.starts++;
    s.update = update;
    return { close: () => void s.stops++ };
  });
  return { v, s };
}

describe('Var', () => {
  test('observe delivers the current value at once, then each change; close stops delivery', () => {
    const c = cell(1);
    const r = record(c);
    c.update(2);
    c.update(3);
    r.close();
    c.update(4);
    assert.deepEqual(r.values, [1, 2, 3]);
    assert.equal(c.sample(), 4);
  });

  test('an update equal to the current value is dropped', () => {
    const c = cell(1);
    const r = record(c);
    c.update(1);
    c.update(2);
    c.update(2);
    assert.deepEqual(r.values, [1, 2]);
    const byValue = cell({ n: 1 }, (a, b) => a.n === b.n);
    const r2 = record(byValue);
    byValue.update({ n: 1 });
    assert.equal(r2.values.length, 1);
  });

  test('an async source starts with its first observer and stops with its last', () => {
    const { v, s } = counted(0);
    assert.equal(s.starts, 0);
    const a = record(v);
    const b = record(v);
    assert.equal(s.starts, 1);
    s.update(5);
    assert.deepEqual(a.values, [0, 5]);
    assert.deepEqual(b.values, [0, 5]);
    a.close();
    assert.equal(s.stops, 0);
    b.close();
    b.close();
    assert.equal(s.stops, 1);
    // Stopped, it forgets its value; observed again, it starts again from the initial one.
    const c = record(v);
    assert.deepEqual(c.values, [0]);
    assert.equal(s.starts, 2);
    c.close();
  });

  test('updates from a stopped run are ignored', () => {
    const { v, s } = counted(0);
    const a = record(v);
    const stale = s.update;
    a.close();
    const b = record(v);
    stale(99);
    assert.deepEqual(b.values, [0]);
    b.close();
  });

  test('sample on an unobserved async source starts and stops it', () => {
    const v = asyncVar(0, (update) => {
      update(7);
      return { close() {} };
    });
    assert.equal(v.sample(), 7);
  });

  test('a value set while the source starts reaches the first observer once', () => {
    const v = asyncVar(0, (update) => {
      update(1);
      update(2);
      return { close() {} };
    });
    assert.deepEqual(record(v).values, [2]);
  });

  test('an observer closing another during delivery: the closed one is not called', () => {
    const c = cell(0);
    const seen: string[] = [];
    let second: { close(): void } | undefined;
    c.observe((x) => {
      seen.push(`a${x}`);
      if (x === 1) second?.close();
    });
    second = c.observe((x) => seen.push(`b${x}`));
    c.update(1);
    assert.deepEqual(seen, ['a0', 'b0', 'a1']);
  });

  test('an update made by an observer is delivered after the current one reached everybody', () => {
    const c = cell(0);
    const seen: string[] = [];
    c.observe((x) => {
      seen.push(`a${x}`);
      if (x === 1) c.update(2);
    });
    c.observe((x) => seen.push(`b${x}`));
    c.update(1);
    assert.deepEqual(seen, ['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
  });

  test('map, flatMap and collect follow their sources', () => {
    const a = cell(1);
    const b = cell(10);
    const which = cell<'a' | 'b'>('a');
    const doubled = record(mapVar(a, (x) => x * 2));
    const chosen = record(flatMapVar(which, (w) => (w === 'a' ? a : b), 0));
    const both = record(collectVars([a, b]));
    a.update(2);
    which.update('b');
    b.update(11);
    a.update(3); // no longer chosen
    assert.deepEqual(doubled.values, [2, 4, 6]);
    assert.deepEqual(chosen.values, [1, 2, 10, 11]);
    assert.deepEqual(both.values, [
      [1, 10],
      [2, 10],
      [2, 11],
      [3, 11],
    ]);
    assert.equal(constVar(5).sample(), 5);
  });

  test('many observers of one source join, hear and leave in linear time', () => {
    // 100,000 observers: a quadratic list would take minutes here.
    const c = cell(0);
    let closeHalf = false;
    const subs: { close(): void }[] = [];
    // The first observer closes every other later one during the second round.
    const closer = c.observe(() => {
      if (closeHalf) for (let i = 0; i < subs.length; i += 2) subs[i]!.close();
    });
    let heard = 0;
    for (let i = 0; i < 100_000; i++) subs.push(c.observe(() => heard++));
    c.update(1);
    assert.equal(heard, 200_000);
    closeHalf = true;
    heard = 0;
    c.update(2);
    assert.equal(heard, 50_000);
    closeHalf = false;
    for (const s of subs) s.close();
    closer.close();
  });
});

describe('derivedVar', () => {
  test('observes exactly what its last run read, and lets go of the rest', () => {
    const flag = counted(true);
    const left = counted('L');
    const right = counted('R');
    let runs = 0;
    const d = derivedVar('', (use) => {
      runs++;
      return use(flag.v) ? use(left.v) : use(right.v);
    });
    const r = record(d);
    assert.deepEqual(r.values, ['L']);
    assert.deepEqual([left.s.starts, right.s.starts], [1, 0]);
    flag.s.update(false);
    assert.deepEqual(r.values, ['L', 'R']);
    assert.deepEqual([left.s.stops, right.s.starts], [1, 1]);
    left.s.update('L2'); // not read any more: no run
    const before = runs;
    left.s.update('L3');
    assert.equal(runs, before);
    r.close();
    assert.deepEqual([flag.s.stops, right.s.stops], [1, 1]);
  });

  test('an equal result is not re-emitted', () => {
    const a = cell(1);
    const r = record(derivedVar(0, (use) => use(a) % 2));
    a.update(3);
    a.update(4);
    assert.deepEqual(r.values, [1, 0]);
  });

  test('a dependency that changes while the computation runs makes it run again', () => {
    const a = cell(0);
    const b = asyncVar(0, (update) => {
      a.update(1); // changes a, which this run has already read
      update(1);
      return { close() {} };
    });
    const r = record(derivedVar(-1, (use) => use(a) + use(b)));
    assert.equal(r.values.at(-1), 2);
  });

  test('does nothing while unobserved', () => {
    let runs = 0;
    const a = cell(1);
    derivedVar(0, (use) => (runs++, use(a)));
    a.update(2);
    assert.equal(runs, 0);
  });
});

describe('Activity', () => {
  test('a witness goes pending, ok, failed, ok by hand', () => {
    const [a, set] = witness<number>();
    const r = record(a);
    set(ok(1));
    set(failed(new Error('down')));
    set(ok(2));
    assert.deepEqual(
      r.values.map((s) => (s.kind === 'ok' ? s.value : s.kind === 'failed' ? s.error.message : 'pending')),
      ['pending', 1, 'down', 2],
    );
  });

  test('stabilize keeps the last ok value through later pending and failed states', () => {
    const [a, set] = witness<number>();
    const r = record(stabilize(a));
    set(failed(new Error('early')));
    set(ok(1));
    set(failed(new Error('later')));
    set(PENDING);
    set(ok(2));
    const shown = r.values.map((s) => (s.kind === 'ok' ? s.value : s.kind));
    assert.deepEqual(shown, ['pending', 'failed', 1, 2]);
  });

  test('map, flatMap, collect; a throwing function gives failed', () => {
    const [a, setA] = witness<number>();
    const [b, setB] = witness<number>();
    const mapped = record(mapActivity(a, (x) => {
      if (x < 0) throw new Error('negative');
      return x + 1;
    }));
    const flat = record(flatMapActivity(a, (x) => (x > 5 ? b : activityValue(x))));
    const all = record(collectActivities([a, b]));
    setA(ok(1));
    setA(ok(-1));
    setA(ok(6));
    setB(ok(60));
    setB(failed(new Error('b down')));
    const show = (s: ActivityState<unknown>) => (s.kind === 'ok' ? s.value : s.kind === 'failed' ? `!${s.error.message}` : '?');
    assert.deepEqual(mapped.values.map(show), ['?', 2, '!negative', 7]);
    assert.deepEqual(flat.values.map(show), ['?', 1, -1, '?', 60, '!b down']);
    assert.deepEqual(all.values.map(show), ['?', [6, 60], '!b down']);
  });

  test('derivedActivity turns a throw into failed', () => {
    const s = derivedActivity<number>(() => {
      throw new Error('boom');
    }).sample();
    assert.equal(s.kind, 'failed');
  });

  test('states fail the same way when class and message match', () => {
    const eq = stateEquals<number>();
    assert.ok(eq(failed(new Error('x')), failed(new Error('x'))));
    assert.ok(!eq(failed(new Error('x')), failed(new TypeError('x'))));
    assert.ok(!eq(ok(1), ok(2)));
    assert.ok(eq(PENDING, { kind: 'pending' }));
  });
});

test('an observer that throws does not keep the value from the others, and the error surfaces', () => {
  const c = cell(0);
  const seen: number[] = [];
  const bad = c.observe((v) => {
    if (v === 1) throw new Error('observer bug');
  });
  const good = c.observe((v) => seen.push(v));
  assert.throws(() => c.update(1), /observer bug/);
  c.update(2);
  assert.deepEqual(seen, [0, 1, 2]);
  bad.close();
  good.close();
});

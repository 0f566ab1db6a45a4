// Runs dtab conformance cases in the format of spec/dtab.md §12: parsing, printing, lookup,
// simplify, eval, dtab composition, binding and delegation, with the mock namers §12 defines.
// Used by the test suite and by `npm run conformance -- FILE.json`.

import { isDeepStrictEqual } from 'node:util';
import { type Activity, type ActivityState, activityValue, constVar, ok, PENDING } from '../../src/core/index.ts';
import {
  type Addr,
  Addr as A,
  address,
  addressKey,
  BoundName,
  delegateToJson,
  Dtab,
  DtabParseError,
  evalTree,
  type Lookup,
  type Name,
  type NameTree,
  Path,
  readDentry,
  readDtab,
  readNameTree,
  readPath,
  readPrefix,
  resolveAddr,
  showPathTree,
  showTree,
  simplify,
  WEIGHT_META_KEY,
} from '../../src/dtab/index.ts';
import {
  type ConfiguredNamer,
  configuredInterpreter,
  globalNamer,
  type Interpreter,
  type Namer,
} from '../../src/namer/index.ts';

/** One case of a vectors file; fields depend on `kind`. */
export interface Case {
  id: string;
  kind: string;
  input?: string;
  dtab?: string;
  local?: string;
  base?: string;
  path?: string;
  namers?: Record<string, unknown>;
  maxDepth?: number;
  error?: boolean;
  message?: string;
  expect?: unknown;
  elems?: string[];
  size?: number;
  ast?: unknown;
  roundtrip?: boolean;
  [more: string]: unknown;
}

export interface Outcome {
  id: string;
  passed: boolean;
  /** What the case expected and what came, when it failed. */
  expected?: unknown;
  actual?: unknown;
}

const KINDS = new Set([
  'parse-path',
  'parse-prefix',
  'parse-dentry',
  'parse-dtab',
  'parse-tree',
  'lookup',
  'simplify',
  'eval',
  'dtab-concat',
  'dtab-simplified',
  'bind',
  'delegate',
]);

/** Runs one case. Never throws: an unexpected exception is a failed case. */
export function runCase(c: Case): Outcome {
  try {
    if (!KINDS.has(c.kind)) return { id: c.id, passed: false, expected: c.kind, actual: 'unknown case kind' };
    if (c.error === true) return expectError(c, () => compute(c));
    const actual = compute(c);
    const expected = expectedOf(c);
    return { id: c.id, passed: isDeepStrictEqual(actual, expected), expected, actual };
  } catch (e) {
    return { id: c.id, passed: false, expected: c.error ? { error: c.message } : expectedOf(c), actual: { threw: String(e) } };
  }
}

function expectError(c: Case, f: () => unknown): Outcome {
  const expected = { error: c.message };
  try {
    return { id: c.id, passed: false, expected, actual: f() };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const isParse = c.kind.startsWith('parse-') ? e instanceof DtabParseError : true;
    return { id: c.id, passed: isParse && message === c.message, expected, actual: { error: message } };
  }
}

/** The parts of the case the computed value is compared against. */
function expectedOf(c: Case): unknown {
  switch (c.kind) {
    case 'parse-path':
      return { show: c.expect, elems: c.elems };
    case 'parse-dtab':
      return { show: c.expect, size: c.size };
    case 'parse-tree':
      return { show: c.expect, ast: normalize(c.ast), roundtrip: c.roundtrip };
    case 'lookup':
    case 'simplify':
      return { show: c.expect, ast: normalize(c.ast) };
    case 'bind':
    case 'delegate':
      return normalize(c.expect);
    default:
      return c.expect;
  }
}

function compute(c: Case): unknown {
  switch (c.kind) {
    case 'parse-path': {
      const p = readPath(c.input!);
      return { show: p.show, elems: [...p.elems] };
    }
    case 'parse-prefix':
      return readPrefix(c.input!).show;
    case 'parse-dentry':
      return readDentry(c.input!).show;
    case 'parse-dtab': {
      const d = readDtab(c.input!);
      return { show: d.show, size: d.size };
    }
    case 'parse-tree': {
      const t = readNameTree(c.input!);
      const show = showPathTree(t);
      return { show, ast: astOf(t), roundtrip: isDeepStrictEqual(astOf(readNameTree(show)), astOf(t)) };
    }
    case 'lookup': {
      const t = readDtab(c.dtab!).lookup(readPath(c.path!));
      return { show: showPathTree(t), ast: astOf(t) };
    }
    case 'simplify': {
      const t = simplify(readNameTree(c.input!));
      return { show: showPathTree(t), ast: astOf(t) };
    }
    case 'eval': {
      const s = evalTree(readNameTree(c.input!));
      return s === undefined ? null : [...s].map((p) => p.show).sort();
    }
    case 'dtab-concat':
      return readDtab(c.base!).concat(readDtab(c.local!)).show;
    case 'dtab-simplified':
      return readDtab(c.input!).simplified().show;
    case 'bind':
      return bindCase(c);
    case 'delegate':
      return delegateCase(c);
  }
  throw new Error(`unknown kind ${c.kind}`);
}

/**
 * The live interpreter over §12's mock namers: the case's `dtab` is the interpreter's own, and
 * `local` is what each bind is given, so binding sees `dtab ++ local`.
 */
function interpreterFor(c: Case): Interpreter {
  return configuredInterpreter({
    kind: 'default',
    dtab: activityValue(readDtab(c.dtab ?? '')),
    namers: mockNamers(c.namers ?? {}),
    transformers: [],
    global: globalNamer({ resolver: async () => ['0.0.0.0'] }),
    ...(c.maxDepth !== undefined && { maxDepth: c.maxDepth }),
  });
}

/** The current state of an activity (the mock namers answer at once). */
function now<T>(a: Activity<T>): ActivityState<T> {
  let state: ActivityState<T> = PENDING;
  a.observe((s) => {
    state = s;
  }).close();
  return state;
}

function bindCase(c: Case): unknown {
  const r = now(interpreterFor(c).bind(readDtab(c.local ?? ''), readPath(c.path!)));
  if (r.kind === 'pending') return { state: 'pending' };
  if (r.kind === 'failed') return { state: 'failed', exception: { message: r.error.message } };
  const tree = r.value;
  return {
    state: 'ok',
    show: showTree(tree, (b) => b.id.show),
    tree: boundTreeJson(tree),
    resolved: addrJson(resolveAddr(tree)),
  };
}

function delegateCase(c: Case): unknown {
  const r = now(interpreterFor(c).delegate(Dtab.empty, readPath(c.path!)));
  if (r.kind === 'pending') return { state: 'pending' };
  if (r.kind === 'failed') throw r.error;
  return normalize(JSON.parse(JSON.stringify(delegateToJson(r.value))));
}

/**
 * §12's mock namers as configured namers. They are tried in key order; the interpreter tries
 * the last configured first, so they are configured in reverse. A key K answers a path P that
 * starts with K.
 */
export function mockNamers(spec: Record<string, unknown>): ConfiguredNamer[] {
  return Object.entries(spec)
    .map(([key, behaviour]): ConfiguredNamer => {
      const prefix = readPath(key);
      const namer: Namer = { lookup: (rest) => constVar(mockAnswer(prefix, prefix.concat(rest), behaviour)) };
      return { kind: 'mock', prefix, namer, transformers: [] };
    })
    .reverse();
}

/** The same mock namers as a plain lookup, for the pure bind and delegate: key order, then `/$/`. */
export function mockLookup(spec: Record<string, unknown>): Lookup {
  const global = globalNamer({ resolver: async () => ['0.0.0.0'] });
  const entries = Object.entries(spec).map(([key, behaviour]) => [readPath(key), behaviour] as const);
  return (path) => {
    for (const [prefix, behaviour] of entries) {
      if (!path.startsWith(prefix)) continue;
      const r = mockAnswer(prefix, path, behaviour);
      if (r.kind !== 'ok' || r.value.kind !== 'neg') return r;
    }
    return global(path);
  };
}

function mockAnswer(prefix: Path, path: Path, behaviour: unknown): ActivityState<NameTree<Name>> {
  const bound = (addr: Addr) => ok<NameTree<Name>>({
    kind: 'leaf',
    value: new BoundName(constVar(addr), prefix, path.drop(prefix.size)),
  });
  if (Array.isArray(behaviour)) {
    return bound(
      A.bound(
        behaviour.map((hp: string) => {
          const i = hp.lastIndexOf(':');
          return address(hp.slice(0, i), Number(hp.slice(i + 1)));
        }),
      ),
    );
  }
  switch (behaviour) {
    case 'neg':
      return ok({ kind: 'neg' });
    case 'fail':
      return ok({ kind: 'fail' });
    case 'empty':
      return ok({ kind: 'empty' });
    case 'error':
      return { kind: 'failed', error: new Error(`error naming ${path.show}`) };
    case 'pending':
      return PENDING;
    case 'addr-neg':
      return bound(A.neg);
  }
  if (typeof behaviour === 'string' && behaviour.startsWith('tree:')) {
    return ok(readNameTree(behaviour.slice(5)) as NameTree<Name>);
  }
  throw new Error(`unknown mock namer behaviour ${JSON.stringify(behaviour)}`);
}

function astOf(t: NameTree<Path>): unknown {
  switch (t.kind) {
    case 'leaf':
      return { type: 'leaf', path: t.value.show };
    case 'alt':
      return { type: 'alt', trees: t.trees.map(astOf) };
    case 'union':
      return { type: 'union', trees: t.trees.map((w) => ({ weight: w.weight, tree: astOf(w.tree) })) };
    default:
      return { type: t.kind };
  }
}

function boundTreeJson(t: NameTree<BoundName>): unknown {
  switch (t.kind) {
    case 'leaf':
      return { type: 'leaf', id: t.value.id.show, residual: t.value.residual.show, addr: addrJson(t.value.addr.sample()) };
    case 'union':
      return { type: 'union', trees: t.trees.map((w) => ({ weight: w.weight, tree: boundTreeJson(w.tree) })) };
    case 'alt':
      return { type: 'alt', trees: t.trees.map(boundTreeJson) };
    default:
      return { type: t.kind };
  }
}

function addrJson(a: Addr): unknown {
  switch (a.kind) {
    case 'bound': {
      const out: Record<string, unknown> = { type: 'bound', addrs: a.addrs.map(addressKey).sort() };
      const w = a.meta[WEIGHT_META_KEY];
      if (typeof w === 'number') out.weight = w;
      return out;
    }
    case 'failed':
      return { type: 'failed', cause: a.error.message };
    default:
      return { type: a.kind };
  }
}

/**
 * Order-insensitive parts made canonical: address lists are sets (§8.3), and a failed bind is
 * compared by its message (the Java class name is for information).
 */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) {
    if (k === 'exception' && x !== null && typeof x === 'object' && 'message' in x) {
      out[k] = { message: (x as { message: unknown }).message };
    } else if (k === 'addrs' && Array.isArray(x)) {
      out[k] = x.map(normalize).sort((p, q) => (JSON.stringify(p) < JSON.stringify(q) ? -1 : 1));
    } else out[k] = normalize(x);
  }
  return out;
}

/** Runs every case; returns the outcomes in file order. */
export function runAll(cases: readonly Case[]): Outcome[] {
  return cases.map(runCase);
}

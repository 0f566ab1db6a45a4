// The JSON of linkerd's `/delegator.json` for a delegation tree (spec/dtab.md §8.3), as plain
// objects and as text byte-for-byte like linkerd's Jackson output (doubles keep their `.0`).

import type { Addr } from './addr.ts';
import { Dentry } from './dentry.ts';
import type { DelegateTree } from './delegate.ts';
import type { BoundName } from './name.ts';
import type { Path } from './path.ts';

export interface DentryJson {
  prefix: string;
  dst: string;
}

export type AddrJson =
  | { type: 'bound'; addrs: { ip: string; port: number; meta: Record<string, unknown> }[]; meta: Record<string, unknown> }
  | { type: 'neg' }
  | { type: 'pending' }
  | { type: 'failed'; cause: string };

export interface BoundJson {
  addr: AddrJson;
  id: string;
  path: string;
}

export type DelegateJson = {
  type: DelegateTree['kind'];
  path: string;
  dentry?: DentryJson;
  [field: string]: unknown;
};

/** A weight, marked so the text form can print it as a Java double (`3.0`). */
class JsonDouble {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
  toJSON(): number {
    return this.value;
  }
}

/** Addr state as the delegator shows it. Only addresses that resolved to an IP are listed. */
export function addrToJson(addr: Addr): AddrJson {
  switch (addr.kind) {
    case 'bound':
      return {
        type: 'bound',
        addrs: addr.addrs.map((a) => ({ ip: a.host, port: a.port, meta: { ...a.meta } })),
        meta: { ...addr.meta },
      };
    case 'neg':
      return { type: 'neg' };
    case 'pending':
      return { type: 'pending' };
    case 'failed':
      return { type: 'failed', cause: addr.error.message };
  }
}

/** How a leaf's current Addr is read: sampled by default, or from a caller's observations. */
export type AddrOf = (b: BoundName) => Addr;

const SAMPLE: AddrOf = (b) => b.addr.sample();

function boundToJson(b: BoundName, addrOf: AddrOf): BoundJson {
  return { addr: addrToJson(addrOf(b)), id: b.id.show, path: b.residual.show };
}

function dentryField(node: { dentry: Dentry }, out: DelegateJson): DelegateJson {
  if (node.dentry !== Dentry.nop) out.dentry = { prefix: node.dentry.prefix.show, dst: node.dentry.dstShow };
  return out;
}

function pathOf(p: Path): string {
  return p.show;
}

/**
 * The delegator JSON of `tree` as objects, fields in linkerd's order. Weights are wrapped so
 * {@link stringifyDelegateJson} can print them as doubles; `JSON.stringify` prints plain numbers.
 */
export function delegateToJson(tree: DelegateTree, addrOf: AddrOf = SAMPLE): DelegateJson {
  const child = (t: DelegateTree): DelegateJson => delegateToJson(t, addrOf);
  switch (tree.kind) {
    case 'neg':
      return dentryField(tree, { type: 'neg', path: tree.path.isEmpty ? '~' : pathOf(tree.path) });
    case 'fail': {
      const p = tree.path;
      const isFailPath = p.size >= 2 && p.elems[0] === '$' && p.elems[1] === 'fail';
      return dentryField(tree, { type: 'fail', path: isFailPath ? p.show : '!' });
    }
    case 'empty':
      return dentryField(tree, { type: 'empty', path: pathOf(tree.path) });
    case 'exception': {
      const out = dentryField(tree, { type: 'exception', path: pathOf(tree.path) });
      out.message = tree.error.message;
      return out;
    }
    case 'delegate': {
      const out = dentryField(tree, { type: 'delegate', path: pathOf(tree.path) });
      out.delegate = child(tree.tree);
      return out;
    }
    case 'leaf': {
      const out = dentryField(tree, { type: 'leaf', path: pathOf(tree.path) });
      out.bound = boundToJson(tree.value, addrOf);
      return out;
    }
    case 'alt': {
      const out = dentryField(tree, { type: 'alt', path: pathOf(tree.path) });
      out.alt = tree.trees.map(child);
      return out;
    }
    case 'union': {
      const out = dentryField(tree, { type: 'union', path: pathOf(tree.path) });
      out.union = tree.trees.map((w) => ({ weight: new JsonDouble(w.weight), tree: child(w.tree) }));
      return out;
    }
    case 'transformation':
      return {
        type: 'transformation',
        path: pathOf(tree.path),
        name: tree.name,
        bound: boundToJson(tree.value, addrOf),
        tree: child(tree.tree),
      };
  }
}

/** A double as Java's `Double.toString` prints it for ordinary weights: `3.0`, `0.5`, `1.0E-4`. */
export function javaDouble(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  const abs = Math.abs(v);
  if (abs === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(v);
    return s.includes('.') ? s : s + '.0';
  }
  const [mant, exp] = v.toExponential().split('e') as [string, string];
  return (mant.includes('.') ? mant : mant + '.0') + 'E' + (exp.startsWith('+') ? exp.slice(1) : exp);
}

/** Compact JSON text as linkerd writes it: weights as Java doubles, no spaces. */
export function stringifyDelegateJson(json: DelegateJson): string {
  // toJSON runs before a replacer sees the value, so look at the holder's own field.
  return JSON.stringify(json, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    return raw instanceof JsonDouble ? `\u0000${javaDouble(raw.value)}\u0000` : value;
  }).replace(/"\\u0000([^"\\]*)\\u0000"/g, '$1');
}

// Printing name trees exactly as Finagle's `NameTree.show` does (spec/dtab.md §4), including
// Java's `%.2f` for weights.

import type { NameTree } from './name-tree.ts';

/**
 * Formats a weight like Java's `String.format("%.2f", w)`: the shortest decimal form of `w`,
 * rounded half-up to two places, never in exponent form, always with `.`.
 * @example formatWeight(0.5) === '0.50'; formatWeight(1.005) === '1.01'; formatWeight(1e21) === '1000000000000000000000.00'
 */
export function formatWeight(w: number): string {
  if (Number.isNaN(w)) return 'NaN';
  if (!Number.isFinite(w)) return w > 0 ? 'Infinity' : '-Infinity';
  const negative = w < 0 || Object.is(w, -0);
  let digits: string; // significant digits, no leading zeros (except a lone 0)
  let pointAt: number; // position of the decimal point within `digits`
  const s = String(Math.abs(w));
  const e = s.indexOf('e');
  const mantissa = e < 0 ? s : s.slice(0, e);
  const exp = e < 0 ? 0 : Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  if (dot < 0) {
    digits = mantissa;
    pointAt = mantissa.length + exp;
  } else {
    digits = mantissa.slice(0, dot) + mantissa.slice(dot + 1);
    pointAt = dot + exp;
  }
  // Plain form: intPart.fracPart with at least three fraction digits to round from.
  let intPart: string;
  let frac: string;
  if (pointAt <= 0) {
    intPart = '0';
    frac = '0'.repeat(-pointAt) + digits;
  } else if (pointAt >= digits.length) {
    intPart = digits + '0'.repeat(pointAt - digits.length);
    frac = '';
  } else {
    intPart = digits.slice(0, pointAt);
    frac = digits.slice(pointAt);
  }
  frac = frac.padEnd(3, '0');
  let kept = intPart + frac.slice(0, 2);
  if (frac.charCodeAt(2) >= 0x35 /* '5' */) kept = incrementDecimal(kept);
  const int = kept.slice(0, -2).replace(/^0+(?=\d)/, '') || '0';
  const out = int + '.' + kept.slice(-2);
  return negative ? '-' + out : out; // Java keeps the sign: -0.001 prints as -0.00
}

function incrementDecimal(s: string): string {
  const chars = s.split('');
  let i = chars.length - 1;
  for (; i >= 0; i--) {
    if (chars[i] === '9') chars[i] = '0';
    else {
      chars[i] = String.fromCharCode(chars[i]!.charCodeAt(0) + 1);
      break;
    }
  }
  return i < 0 ? '1' + chars.join('') : chars.join('');
}

/** Cache of printed weights: trees reuse a handful of weights. */
const WEIGHT_CACHE = new Map<number, string>();

function weightPrefix(w: number): string {
  let s = WEIGHT_CACHE.get(w);
  if (s === undefined) {
    s = formatWeight(w) + '*';
    if (WEIGHT_CACHE.size < 1024) WEIGHT_CACHE.set(w, s);
  }
  return s;
}

/**
 * Prints a tree in Finagle's syntax, using `showLeaf` for leaf values. Three levels, as in
 * Finagle: the top level joins alt children bare with ` | `; inside an alt, a union prints bare
 * and a nested alt in parentheses; a union branch or weighted term puts any compound tree in
 * parentheses. One-child alts and unions print as their child (a lone weight is not shown).
 * @example showTree(readNameTree('/a | (/b & /c) | ~'), p => p.show) === '/a | /b & /c | ~'
 */
export function showTree<T>(tree: NameTree<T>, showLeaf: (value: T) => string): string {
  for (;;) {
    if (tree.kind === 'alt') {
      if (tree.trees.length === 1) {
        tree = tree.trees[0]!;
        continue;
      }
      let out = '';
      for (let i = 0; i < tree.trees.length; i++) {
        if (i > 0) out += ' | ';
        out += show1(tree.trees[i]!, showLeaf);
      }
      return out;
    }
    if (tree.kind === 'union' && tree.trees.length === 1) {
      tree = tree.trees[0]!.tree;
      continue;
    }
    return show1(tree, showLeaf);
  }
}

function show1<T>(tree: NameTree<T>, showLeaf: (value: T) => string): string {
  for (;;) {
    if (tree.kind === 'alt') {
      if (tree.trees.length === 1) {
        tree = tree.trees[0]!;
        continue;
      }
      return '(' + showTree(tree, showLeaf) + ')';
    }
    if (tree.kind === 'union') {
      const ws = tree.trees;
      if (ws.length === 1) {
        tree = ws[0]!.tree;
        continue;
      }
      let out = '';
      for (let i = 0; i < ws.length; i++) {
        const w = ws[i]!;
        if (i > 0) out += ' & ';
        if (w.weight !== 1.0) out += weightPrefix(w.weight);
        out += showSimple(w.tree, showLeaf);
      }
      return out;
    }
    return showSimple(tree, showLeaf);
  }
}

function showSimple<T>(tree: NameTree<T>, showLeaf: (value: T) => string): string {
  for (;;) {
    switch (tree.kind) {
      case 'leaf':
        return showLeaf(tree.value);
      case 'fail':
        return '!';
      case 'neg':
        return '~';
      case 'empty':
        return '$';
      case 'alt':
        if (tree.trees.length === 1) {
          tree = tree.trees[0]!;
          continue;
        }
        return '(' + showTree(tree, showLeaf) + ')';
      case 'union':
        if (tree.trees.length === 1) {
          tree = tree.trees[0]!.tree;
          continue;
        }
        return '(' + showTree(tree, showLeaf) + ')';
    }
  }
}

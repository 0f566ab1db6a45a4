// The per-request choice in a bound tree (Finagle's NameTreeFactory, spec/dtab.md §7.6): a
// union picks one branch at random in proportion to the weights, a leaf is its bound name, and
// Neg, Fail and Empty route nowhere. Synchronous, on data already in memory.

import type { BoundName, NameTree } from '../../dtab/index.ts';

/** The bound name this request goes to, or undefined when the tree routes nowhere. */
export function pickBound(tree: NameTree<BoundName>, random: () => number = Math.random): BoundName | undefined {
  switch (tree.kind) {
    case 'leaf':
      return tree.value;
    case 'neg':
    case 'fail':
    case 'empty':
      return undefined;
    case 'alt':
      // Binding leaves no alternatives; should one remain, the first that routes is used.
      for (const t of tree.trees) {
        const b = pickBound(t, random);
        if (b !== undefined) return b;
      }
      return undefined;
    case 'union': {
      let total = 0;
      for (const w of tree.trees) if (w.weight > 0) total += w.weight;
      if (total <= 0) return undefined;
      let r = random() * total;
      for (const w of tree.trees) {
        if (w.weight <= 0) continue;
        r -= w.weight;
        if (r < 0) return pickBound(w.tree, random);
      }
      // Rounding left r at zero: the last weighted branch.
      for (let i = tree.trees.length - 1; i >= 0; i--) if (tree.trees[i]!.weight > 0) return pickBound(tree.trees[i]!.tree, random);
      return undefined;
    }
  }
}

/** Each bound name a request could go to, with the share of requests it gets. */
export function boundChoices(tree: NameTree<BoundName>, share = 1, out: { bound: BoundName; share: number }[] = []): { bound: BoundName; share: number }[] {
  switch (tree.kind) {
    case 'leaf':
      out.push({ bound: tree.value, share });
      break;
    case 'alt':
      // As pickBound: the first alternative that routes.
      for (const t of tree.trees) {
        const before = out.length;
        boundChoices(t, share, out);
        if (out.length > before) break;
      }
      break;
    case 'union': {
      let total = 0;
      for (const w of tree.trees) if (w.weight > 0) total += w.weight;
      if (total > 0) for (const w of tree.trees) if (w.weight > 0) boundChoices(w.tree, (share * w.weight) / total, out);
      break;
    }
    default:
      break;
  }
  return out;
}

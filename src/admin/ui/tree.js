// The delegation tree of the delegator page, as linkerd's /delegator.json describes it:
// every branch drawn, the one traffic takes marked, and a summary of where the name ends up.
// The explain view draws the delegation of a request with it too.

import { h } from './common.js';

/**
 * What a subtree comes to, as NameTree evaluation sees it: an alt takes its first branch that
 * is not neg, a union keeps its branches that are not neg. Used to mark the branch that wins.
 */
function outcome(node) {
  switch (node?.type) {
    case 'delegate':
      return outcome(node.delegate);
    case 'transformation':
      return outcome(node.tree);
    case 'alt':
      return (node.alt ?? []).map(outcome).find((o) => o !== 'neg') ?? 'neg';
    case 'union': {
      const os = (node.union ?? []).map((b) => outcome(b?.tree)).filter((o) => o !== 'neg');
      return os.includes('leaf') ? 'leaf' : (os[0] ?? 'neg');
    }
    case 'leaf':
    case 'neg':
    case 'fail':
    case 'empty':
      return node.type;
    default:
      return 'fail'; // exception, or a shape this page does not know
  }
}

/** The leaves the name finally binds to, each with its share of traffic. */
function chosenLeaves(node, share = 1, acc = []) {
  switch (node?.type) {
    case 'delegate':
      return chosenLeaves(node.delegate, share, acc);
    case 'transformation':
      return chosenLeaves(node.tree, share, acc);
    case 'alt': {
      const pick = (node.alt ?? []).find((c) => outcome(c) !== 'neg');
      return pick ? chosenLeaves(pick, share, acc) : acc;
    }
    case 'union': {
      const live = (node.union ?? []).filter((b) => outcome(b?.tree) !== 'neg');
      const total = live.reduce((a, b) => a + (Number(b.weight) || 0), 0);
      for (const b of live) chosenLeaves(b.tree, total > 0 ? (share * (Number(b.weight) || 0)) / total : share / live.length, acc);
      return acc;
    }
    case 'leaf':
      acc.push({ leaf: node, share });
      return acc;
    default:
      return acc;
  }
}

const addrText = (a) => `${a.ip}:${a.port}`;

/** A bound name (a leaf's, or a transformer's input): its state and live addresses, on one line. */
function boundEl(bound, showId) {
  const addr = bound?.addr ?? {};
  const type = addr.type ?? 'pending';
  const addrs = Array.isArray(addr.addrs) ? addr.addrs : [];
  const state = {
    bound: `${addrs.length} address${addrs.length === 1 ? '' : 'es'}`,
    neg: 'neg: the namer has no such name',
    pending: 'pending: the namer has not answered yet',
    failed: `failed: ${addr.cause ?? 'unknown cause'}`,
  }[type] ?? type;
  return h(
    'div',
    { class: `bound state-${type}`, 'data-testid': 'leaf', 'data-state': type, 'data-id': bound?.id ?? '' },
    showId ? h('code', {}, bound?.id ?? '?') : null,
    bound?.path && bound.path !== '/' ? h('span', { class: 'dentry residual' }, `residual ${bound.path}`) : null,
    h('span', { class: 'state', 'data-testid': 'leaf-state' }, state),
    addrs.map((a) => h('span', { class: 'addr', 'data-testid': 'leaf-addr', title: JSON.stringify(a.meta ?? {}) }, addrText(a))),
  );
}

const BADGE = { leaf: 'bound', neg: 'neg', fail: 'fail', empty: 'empty', alt: 'alt |', union: 'union &', exception: 'error', transformation: 'transform' };

const dentryText = (n) => (n?.dentry ? `${n.dentry.prefix} => ${n.dentry.dst}` : '');

function nodeEl(node, extra = {}, parent = null) {
  const type = node?.type ?? 'exception';
  // Branches of a union or alt repeat the dentry that made them: shown once, on the parent.
  const dentry = dentryText(node);
  const li = h('li', { class: `node node-${type}${extra.skipped ? ' skipped' : ''}`, 'data-type': type });
  li.append(
    h(
      'div',
      { class: 'node-line' },
      extra.weight !== undefined ? h('span', { class: 'weight' }, `${(extra.weight * 100).toFixed(0)}%`) : null,
      BADGE[type] ? h('span', { class: `badge ${type}` }, BADGE[type]) : null,
      h('code', {}, type === 'empty' ? node.path || '$' : (node?.path ?? '')),
      dentry && dentry !== dentryText(parent) ? h('span', { class: 'dentry' }, dentry) : null,
      extra.why ? h('span', { class: 'why' }, extra.why) : null,
    ),
  );
  const kids = [];
  switch (type) {
    case 'delegate':
      kids.push(nodeEl(node.delegate, {}, node));
      break;
    case 'alt': {
      // The first branch that is not neg is the one traffic takes; the rest are fallbacks.
      const alts = node.alt ?? [];
      const win = alts.findIndex((c) => outcome(c) !== 'neg');
      alts.forEach((c, i) => kids.push(nodeEl(c, i === win ? { why: 'chosen' } : { skipped: true, why: win === -1 || i < win ? 'neg: falls through' : 'fallback, not used' }, node)));
      break;
    }
    case 'union': {
      const total = (node.union ?? []).reduce((a, b) => a + (Number(b?.weight) || 0), 0);
      for (const b of node.union ?? []) kids.push(nodeEl(b?.tree, { weight: total > 0 ? (Number(b?.weight) || 0) / total : 0, skipped: outcome(b?.tree) === 'neg' }, node));
      break;
    }
    case 'leaf':
      li.append(boundEl(node.bound, node.bound?.id !== node.path));
      break;
    case 'transformation':
      li.append(h('div', { class: 'why' }, `transformer ${node.name ?? '?'} rewrote`), boundEl(node.bound, true));
      kids.push(nodeEl(node.tree, {}, node));
      break;
    case 'exception':
      li.append(h('div', { class: 'error' }, node?.message ?? 'unknown error'));
      break;
  }
  if (kids.length > 0) li.append(h('ul', {}, kids));
  return li;
}

/** The tree plus a one-glance summary of where the name ends up. */
export function treeView(tree) {
  const leaves = chosenLeaves(tree);
  const end = outcome(tree);
  const summary = h('div', { class: 'summary', 'data-testid': 'delegation-summary' });
  if (leaves.length === 0) {
    const why = { neg: 'no route: every branch is neg (linkerd answers "No hosts are available")', fail: 'fails: the tree ends in fail or an error', empty: 'empty: the name binds to nothing' }[end] ?? end;
    summary.append(h('div', { class: end === 'neg' || end === 'empty' ? '' : 'sr-bad' }, why));
  }
  for (const { leaf, share } of leaves) {
    const addrs = leaf.bound?.addr?.addrs ?? [];
    summary.append(
      h('div', {}, leaves.length > 1 ? `${(share * 100).toFixed(0)}% ` : '', h('code', {}, leaf.bound?.id ?? leaf.path), h('span', { class: 'arrow' }, '→'), addrs.length > 0 ? addrs.map(addrText).join(', ') : (leaf.bound?.addr?.type ?? 'pending')),
    );
  }
  return [summary, h('ul', { class: 'tree', 'data-testid': 'tree' }, nodeEl(tree))];
}

// A delegation as the delegator shows it: the tree once it is known and its leaves' addresses
// have arrived, or as it stands when the wait runs out (pending addresses are then shown as
// pending). linkerd's delegator waits in the same way before it answers.

import { type Activity, type ActivityState, type Closable, ok, PENDING } from '../core/index.ts';
import { type Addr, type BoundName, type DelegateJson, type DelegateTree, delegateToJson } from '../dtab/index.ts';

/** The bound names a delegation tree shows, transformation inputs included. */
export function delegationLeaves(tree: DelegateTree, out: BoundName[] = []): BoundName[] {
  switch (tree.kind) {
    case 'leaf':
      out.push(tree.value);
      break;
    case 'transformation':
      out.push(tree.value);
      delegationLeaves(tree.tree, out);
      break;
    case 'delegate':
      delegationLeaves(tree.tree, out);
      break;
    case 'alt':
      for (const t of tree.trees) delegationLeaves(t, out);
      break;
    case 'union':
      for (const w of tree.trees) delegationLeaves(w.tree, out);
      break;
    default:
      break;
  }
  return out;
}

/**
 * The Addrs of a delegation tree's leaves, observed: `follow(tree)` watches the new tree's
 * leaves and lets go of the others; `onChange` hears each Addr that changes after it is first
 * seen.
 */
class LeafAddrs {
  #addrs = new Map<BoundName, { addr: Addr; sub: Closable | undefined }>();
  readonly #onChange: () => void;

  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  follow(tree: DelegateTree): void {
    const next = new Map<BoundName, { addr: Addr; sub: Closable | undefined }>();
    for (const b of delegationLeaves(tree)) {
      const kept = this.#addrs.get(b) ?? next.get(b);
      if (kept !== undefined) {
        next.set(b, kept);
        continue;
      }
      const entry: { addr: Addr; sub: Closable | undefined } = { addr: PENDING_ADDR, sub: undefined };
      next.set(b, entry);
      entry.sub = b.addr.observe((a) => {
        entry.addr = a;
        // The first value arrives while observing starts: the caller looks at it after `follow`.
        if (entry.sub !== undefined) this.#onChange();
      });
    }
    for (const [b, a] of this.#addrs) if (!next.has(b)) a.sub?.close();
    this.#addrs = next;
  }

  /** The leaf's Addr as last observed. */
  addr(b: BoundName): Addr {
    return this.#addrs.get(b)?.addr ?? b.addr.sample();
  }

  get pending(): boolean {
    for (const a of this.#addrs.values()) if (a.addr.kind === 'pending') return true;
    return false;
  }

  close(): void {
    for (const a of this.#addrs.values()) a.sub?.close();
    this.#addrs = new Map();
  }
}

/**
 * Observes `delegation` until its tree is known and no leaf's Addr is pending, or until
 * `timeoutMs` passes, and gives the delegator JSON of that moment (failed when delegation
 * failed; pending when the tree itself never arrived).
 */
export function settleDelegation(delegation: Activity<DelegateTree>, timeoutMs: number): Promise<ActivityState<DelegateJson>> {
  return new Promise((resolve) => {
    let state: ActivityState<DelegateTree> = PENDING;
    let done = false;
    let outer: Closable | undefined;
    const check = (): void => {
      if (done || state.kind === 'pending') return;
      if (state.kind === 'ok' && leaves.pending) return;
      finish();
    };
    const leaves = new LeafAddrs(check);

    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const result: ActivityState<DelegateJson> = state.kind === 'ok' ? ok(delegateToJson(state.value, (b) => leaves.addr(b))) : state;
      leaves.close();
      outer?.close();
      resolve(result);
    };

    const timer = setTimeout(finish, timeoutMs);
    outer = delegation.observe((s) => {
      if (done) return;
      state = s;
      if (s.kind === 'ok') leaves.follow(s.value);
      check();
    });
    if (done) outer.close();
  });
}

const PENDING_ADDR: Addr = { kind: 'pending' };

/**
 * Follows `delegation` live: `onChange` gets the delegator JSON at once when it is known and
 * again whenever the tree or a leaf's addresses change (changes within `coalesceMs` are told
 * once). Closing stops every watch it holds.
 */
export function watchDelegation(delegation: Activity<DelegateTree>, onChange: (state: ActivityState<DelegateJson>) => void, coalesceMs = 20): Closable {
  let state: ActivityState<DelegateTree> = PENDING;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let last = '';

  const tell = (): void => {
    timer = undefined;
    if (closed || state.kind === 'pending') return;
    const out: ActivityState<DelegateJson> = state.kind === 'ok' ? ok(delegateToJson(state.value, (b) => leaves.addr(b))) : state;
    // Only what a reader would see as different is told.
    const text = out.kind === 'ok' ? JSON.stringify(out.value) : out.kind === 'failed' ? `!${out.error.message}` : '';
    if (text === last) return;
    last = text;
    onChange(out);
  };
  const changed = (): void => {
    if (!closed && timer === undefined) timer = setTimeout(tell, coalesceMs);
  };
  const leaves = new LeafAddrs(changed);

  const outer = delegation.observe((s) => {
    state = s;
    if (s.kind === 'ok') leaves.follow(s.value);
    changed();
  });
  return {
    close(): void {
      closed = true;
      clearTimeout(timer);
      outer.close();
      leaves.close();
    },
  };
}

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
 * Observes `delegation` until its tree is known and no leaf's Addr is pending, or until
 * `timeoutMs` passes, and gives the delegator JSON of that moment (failed when delegation
 * failed; pending when the tree itself never arrived).
 */
export function settleDelegation(delegation: Activity<DelegateTree>, timeoutMs: number): Promise<ActivityState<DelegateJson>> {
  return new Promise((resolve) => {
    let state: ActivityState<DelegateTree> = PENDING;
    let addrs = new Map<BoundName, { addr: Addr; sub: Closable }>();
    let done = false;
    let outer: Closable | undefined;

    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      let result: ActivityState<DelegateJson>;
      if (state.kind === 'ok') {
        const json = delegateToJson(state.value, (b) => addrs.get(b)?.addr ?? b.addr.sample());
        result = ok(json);
      } else {
        result = state;
      }
      for (const a of addrs.values()) a.sub.close();
      addrs = new Map();
      outer?.close();
      resolve(result);
    };

    const check = (): void => {
      if (done || state.kind === 'pending') return;
      if (state.kind === 'failed') return finish();
      for (const a of addrs.values()) if (a.addr.kind === 'pending') return;
      finish();
    };

    const timer = setTimeout(finish, timeoutMs);

    outer = delegation.observe((s) => {
      if (done) return;
      state = s;
      if (s.kind === 'ok') {
        // Observe the addresses of the new tree's leaves; let go of the others.
        const next = new Map<BoundName, { addr: Addr; sub: Closable }>();
        for (const b of delegationLeaves(s.value)) {
          const kept = addrs.get(b) ?? next.get(b);
          if (kept !== undefined) {
            next.set(b, kept);
            continue;
          }
          const entry = { addr: PENDING_ADDR as Addr, sub: undefined as unknown as Closable };
          next.set(b, entry);
          entry.sub = b.addr.observe((a) => {
            entry.addr = a;
            if (entry.sub !== undefined) check();
          });
        }
        for (const [b, a] of addrs) if (!next.has(b)) a.sub.close();
        addrs = next;
      }
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
  let addrs = new Map<BoundName, { addr: Addr; sub: Closable }>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let last = '';

  const tell = (): void => {
    timer = undefined;
    if (closed || state.kind === 'pending') return;
    const out: ActivityState<DelegateJson> = state.kind === 'ok' ? ok(delegateToJson(state.value, (b) => addrs.get(b)?.addr ?? b.addr.sample())) : state;
    // Only what a reader would see as different is told.
    const text = out.kind === 'ok' ? JSON.stringify(out.value) : out.kind === 'failed' ? `!${out.error.message}` : '';
    if (text === last) return;
    last = text;
    onChange(out);
  };
  const changed = (): void => {
    if (!closed && timer === undefined) timer = setTimeout(tell, coalesceMs);
  };

  const outer = delegation.observe((s) => {
    state = s;
    if (s.kind === 'ok') {
      const next = new Map<BoundName, { addr: Addr; sub: Closable }>();
      for (const b of delegationLeaves(s.value)) {
        const kept = addrs.get(b) ?? next.get(b);
        if (kept !== undefined) {
          next.set(b, kept);
          continue;
        }
        const entry = { addr: PENDING_ADDR as Addr, sub: undefined as unknown as Closable };
        next.set(b, entry);
        entry.sub = b.addr.observe((a) => {
          entry.addr = a;
          changed();
        });
      }
      for (const [b, a] of addrs) if (!next.has(b)) a.sub.close();
      addrs = next;
    }
    changed();
  });
  return {
    close(): void {
      closed = true;
      clearTimeout(timer);
      outer.close();
      for (const a of addrs.values()) a.sub.close();
      addrs = new Map();
    },
  };
}

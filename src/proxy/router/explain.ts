// "Explain a request": where a request for a destination would go, found by the steps routing
// takes (the router's binding cache, its per-request choice, its clients), without sending it.
// The admin delegator shows it next to the delegation, so the dry run and live traffic cannot
// disagree.

import type { Activity, ActivityState, Closable } from '../../core/index.ts';
import type { BoundName, NameTree } from '../../dtab/index.ts';
import { BindingTimeoutError, NamerError, NoBrokersAvailableError, type ProxyError } from '../errors.ts';
import type { ClientNode, Endpoint } from './client.ts';
import type { Dst } from './dst.ts';
import { boundChoices } from './pick.ts';
import type { Router } from './router.ts';

export interface Explanation<E extends Endpoint> {
  /** The bound tree, once bound. */
  readonly tree: NameTree<BoundName> | undefined;
  /** Each bound name requests could go to, its share of them, its client, and the error a request sent down it gets now. */
  readonly choices: { readonly bound: BoundName; readonly share: number; readonly client: ClientNode<E>; readonly error: ProxyError | undefined }[];
  /** The error every request would get now, when no branch routes. */
  readonly error: ProxyError | undefined;
}

/** The first state of `a` that is not pending, or pending after `ms`. */
function settled<T>(a: Activity<T>, ms: number): Promise<ActivityState<T>> {
  return new Promise((resolve) => {
    let sub: Closable | undefined;
    let done = false;
    const finish = (s: ActivityState<T>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const x = sub;
      if (x !== undefined) queueMicrotask(() => x.close());
      resolve(s);
    };
    const timer = setTimeout(() => finish({ kind: 'pending' }), ms);
    sub = a.observe((s) => {
      if (s.kind !== 'pending') finish(s);
    });
    if (done) sub.close();
  });
}

function whenSettled<E extends Endpoint>(client: ClientNode<E>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sub.close();
      resolve();
    }, ms);
    const sub = client.whenSettled(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Where a request for `dst` would go through `router`, waiting as long as a request would. */
export async function explainRoute<E extends Endpoint, Req, Res>(router: Router<E, Req, Res>, dst: Dst): Promise<Explanation<E>> {
  const started = performance.now();
  const timeout = router.bindingTimeoutMs;
  const state = await settled(router.bindings.get(dst.dtabs.full, dst.path), timeout);
  if (state.kind === 'pending') return { tree: undefined, choices: [], error: new BindingTimeoutError(dst.path, timeout) };
  if (state.kind === 'failed') return { tree: undefined, choices: [], error: new NamerError(state.error.message || state.error.name, { cause: state.error }) };
  const found = boundChoices(state.value).map((c) => ({ ...c, client: router.clientFor(c.bound) }));
  const noBrokers = new NoBrokersAvailableError(dst.path, dst.dtabs.base, dst.dtabs.local);
  if (found.length === 0) return { tree: state.value, choices: [], error: noBrokers };
  for (const c of found) await whenSettled(c.client, Math.max(0, timeout - (performance.now() - started)));
  // A request goes down one branch, in proportion to the weights, and fails when that one
  // routes nowhere: each branch gets its own verdict.
  const choices = found.map((c) => {
    const s = c.client.state;
    const error =
      s.kind === 'bound' && s.endpoints.length > 0
        ? undefined
        : s.kind === 'pending'
          ? new BindingTimeoutError(dst.path, timeout)
          : s.kind === 'failed'
            ? new NamerError(s.error.message || s.error.name, { cause: s.error })
            : noBrokers;
    return { ...c, error };
  });
  const error = choices.every((c) => c.error !== undefined) ? choices[0]!.error : undefined;
  return { tree: state.value, choices, error };
}

// The retry budget against its definition: a request deposits 1,000 tokens, a retry withdraws
// 1,000 / percentCanRetry, a reserve of minRetriesPerSec * ttl retries is always there, and a
// deposit or withdrawal counts for one ttl (in tenths of it). Checked on generated histories.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DEPOSIT, RetryBudget } from '../../src/core/index.ts';

describe('RetryBudget', () => {
  test("Finagle's defaults: 20 % of requests plus 10 a second, over 10 s", () => {
    let now = 0;
    const b = new RetryBudget({ ttlMs: 10_000, minRetriesPerSec: 10, percentCanRetry: 0.2 }, () => now);
    assert.equal(b.withdrawAmount, 5000);
    assert.equal(b.retriesAvailable, 100);
    for (let i = 0; i < 100; i++) b.deposit();
    assert.equal(b.retriesAvailable, 120);
    let taken = 0;
    while (b.tryWithdraw()) taken++;
    assert.equal(taken, 120);
    // After the window, the deposits and the withdrawals have both expired.
    now = 10_000;
    assert.equal(b.retriesAvailable, 100);
  });

  test('percentCanRetry 0 allows the reserve only', () => {
    const none = new RetryBudget({ ttlMs: 1000, minRetriesPerSec: 0, percentCanRetry: 0 }, () => 0);
    for (let i = 0; i < 1000; i++) none.deposit();
    assert.equal(none.tryWithdraw(), false);
    const reserve = new RetryBudget({ ttlMs: 2000, minRetriesPerSec: 3, percentCanRetry: 0 }, () => 0);
    for (let i = 0; i < 1000; i++) reserve.deposit();
    assert.equal(reserve.retriesAvailable, 6);
  });

  test('matches its definition on generated histories', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('deposit' as const) }),
      fc.record({ kind: fc.constant('withdraw' as const) }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 4000 }) }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }).map((s) => s * 1000),
        fc.integer({ min: 0, max: 20 }),
        fc.double({ min: 0.01, max: 5, noNaN: true }),
        fc.array(op, { maxLength: 300 }),
        (ttlMs, minRetriesPerSec, percentCanRetry, ops) => {
          let now = 0;
          const b = new RetryBudget({ ttlMs, minRetriesPerSec, percentCanRetry }, () => now);
          const withdraw = Math.trunc(DEPOSIT / percentCanRetry);
          const reserve = Math.trunc(minRetriesPerSec * (ttlMs / 1000) * withdraw);
          const slice = ttlMs / 10;
          const events: { slice: number; tokens: number }[] = [];
          const live = (): number => {
            const current = Math.floor(now / slice);
            return reserve + events.filter((e) => e.slice > current - 10).reduce((a, e) => a + e.tokens, 0);
          };
          for (const o of ops) {
            if (o.kind === 'wait') now += o.ms;
            else if (o.kind === 'deposit') {
              b.deposit();
              events.push({ slice: Math.floor(now / slice), tokens: DEPOSIT });
            } else {
              const allowed = live() >= withdraw;
              assert.equal(b.tryWithdraw(), allowed);
              if (allowed) events.push({ slice: Math.floor(now / slice), tokens: -withdraw });
            }
            assert.equal(b.balance, live());
          }
        },
      ),
      { seed: 20261129, numRuns: 300 },
    );
  });
});

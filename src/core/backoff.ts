// Backoff schedules, as Finagle's `Backoff` builds them: a fresh sequence of delays for each
// use (a dead endpoint's revivals, a request's retries). `constant`, linkerd's `jittered`
// (Finagle's decorrelated jitter), and `equalJittered` (failure accrual's default, 5 s-300 s).

/** A sequence of delays in ms; each call to `next` gives the following one. */
export interface BackoffSequence {
  next(): number;
}

/** Makes a fresh sequence. */
export type Backoff = (random?: () => number) => BackoffSequence;

export function constantBackoff(ms: number): Backoff {
  return () => ({ next: () => ms });
}

/**
 * Decorrelated jitter: each delay is random between `minMs` and three times the previous one,
 * capped at `maxMs` (linkerd's `{kind: jittered, minMs, maxMs}`).
 */
export function decorrelatedJitteredBackoff(minMs: number, maxMs: number): Backoff {
  return (random = Math.random) => {
    let prev = minMs;
    let first = true;
    return {
      next: () => {
        if (first) {
          first = false;
          return minMs;
        }
        const high = Math.min(maxMs, prev * 3);
        prev = high <= minMs ? minMs : minMs + Math.floor(random() * (high - minMs + 1));
        return prev;
      },
    };
  };
}

/**
 * Equal jitter: `startMs`, then half of `startMs * 2^n` plus a random share of the other half,
 * capped at `maxMs` (Finagle's `Backoff.equalJittered`).
 */
export function equalJitteredBackoff(startMs: number, maxMs: number): Backoff {
  return (random = Math.random) => {
    let attempt = 0;
    return {
      next: () => {
        if (attempt === 0) {
          attempt++;
          return startMs;
        }
        const base = Math.min(maxMs, startMs * 2 ** Math.min(attempt, 40));
        attempt++;
        if (base >= maxMs) return maxMs;
        const half = base / 2;
        return Math.floor(half + random() * half) + 1;
      },
    };
  };
}

/** Failure accrual's default: equal jitter from 5 s to 300 s. */
export const DEFAULT_ACCRUAL_BACKOFF = equalJitteredBackoff(5_000, 300_000);

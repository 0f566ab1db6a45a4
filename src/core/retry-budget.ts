// Retry budgets, as Finagle defines them (`RetryBudget(ttl, minRetriesPerSec, percentCanRetry)`):
// every request deposits into a bucket, every retry withdraws, and deposits expire after
// `ttl`. A retry costs 1/percentCanRetry deposits, so retries stay within that fraction of the
// recent requests, plus a reserve of `minRetriesPerSec * ttl` so that a quiet service can still
// retry. Integer arithmetic on a fixed scale, as Finagle's token bucket does.

export interface RetryBudgetConfig {
  /** How long a deposit counts (Finagle `ttl`, linkerd `ttlSecs`: 10 s). */
  readonly ttlMs: number;
  /** Retries always allowed per second of `ttl`, whatever the traffic (10). */
  readonly minRetriesPerSec: number;
  /** Retries allowed as a fraction of requests (0.2); linkerd accepts 0 to 1000. */
  readonly percentCanRetry: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetConfig = { ttlMs: 10_000, minRetriesPerSec: 10, percentCanRetry: 0.2 };

/** Tokens one request deposits (Finagle's scale factor). */
export const DEPOSIT = 1000;

/** The window is kept in this many slices; a deposit expires with its slice. */
const SLICES = 10;

export class RetryBudget {
  readonly config: RetryBudgetConfig;
  /** Tokens one request deposits: {@link DEPOSIT}, or none when no share of requests may retry. */
  readonly depositAmount: number;
  /** Tokens one retry withdraws. */
  readonly withdrawAmount: number;
  /** Tokens always there, whatever the traffic. */
  readonly reserve: number;
  readonly #now: () => number;
  readonly #sliceMs: number;
  /** Net tokens per slice, oldest first, and the slice index of the newest. */
  readonly #slices = new Array<number>(SLICES).fill(0);
  #newest = 0;
  #sum = 0;

  constructor(config: RetryBudgetConfig = DEFAULT_RETRY_BUDGET, now: () => number = Date.now) {
    this.config = config;
    this.#now = now;
    // With no share of requests allowed to retry, only the reserve is left (counted in retries).
    this.depositAmount = config.percentCanRetry === 0 ? 0 : DEPOSIT;
    this.withdrawAmount = config.percentCanRetry === 0 ? 1 : Math.trunc(DEPOSIT / config.percentCanRetry);
    this.reserve = Math.trunc(config.minRetriesPerSec * (config.ttlMs / 1000) * this.withdrawAmount);
    this.#sliceMs = Math.max(1, config.ttlMs / SLICES);
    this.#newest = Math.floor(now() / this.#sliceMs);
  }

  /** Moves the window to now, dropping expired slices. */
  #advance(): void {
    const current = Math.floor(this.#now() / this.#sliceMs);
    const steps = Math.min(SLICES, current - this.#newest);
    for (let i = 1; i <= steps; i++) {
      const idx = (this.#newest + i) % SLICES;
      this.#sum -= this.#slices[idx]!;
      this.#slices[idx] = 0;
    }
    if (current > this.#newest) this.#newest = current;
  }

  #add(tokens: number): void {
    this.#slices[this.#newest % SLICES]! += tokens;
    this.#sum += tokens;
  }

  /** Tokens available now. */
  get balance(): number {
    this.#advance();
    return this.reserve + this.#sum;
  }

  /** Retries the budget allows now. */
  get retriesAvailable(): number {
    return Math.max(0, Math.floor(this.balance / this.withdrawAmount));
  }

  /** A request was made. */
  deposit(): void {
    this.#advance();
    this.#add(this.depositAmount);
  }

  /** Takes one retry from the budget; false (and nothing taken) when there is not enough. */
  tryWithdraw(): boolean {
    this.#advance();
    if (this.reserve + this.#sum < this.withdrawAmount) return false;
    this.#add(-this.withdrawAmount);
    return true;
  }
}

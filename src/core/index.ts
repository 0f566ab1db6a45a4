// Public surface of core/: the vocabulary every other folder builds on. Imports nothing else.
export type { Var, Cell, Closable, Equals, Use } from './var.ts';
export {
  asyncVar,
  cell,
  closeAll,
  collectVars,
  constVar,
  derivedVar,
  flatMapVar,
  mapVar,
  NOOP_CLOSABLE,
} from './var.ts';
export type { Activity, ActivityState, Pending, Ok, Failed } from './activity.ts';
export {
  activityFailed,
  activityPending,
  activityValue,
  asError,
  collectActivities,
  derivedActivity,
  failed,
  flatMapActivity,
  mapActivity,
  ok,
  PENDING,
  stabilize,
  stateEquals,
  witness,
} from './activity.ts';
export { ConfigError, ConfigReader } from './config-error.ts';
export type { Log, LogFn } from './log.ts';
export { SILENT_LOG } from './log.ts';
export { DEFAULT_RETRY_BUDGET, DEPOSIT, RetryBudget } from './retry-budget.ts';
export type { RetryBudgetConfig } from './retry-budget.ts';
export { constantBackoff, decorrelatedJitteredBackoff, DEFAULT_ACCRUAL_BACKOFF, equalJitteredBackoff } from './backoff.ts';
export type { Backoff, BackoffSequence } from './backoff.ts';

// Public surface of core/: the vocabulary every other folder builds on. Imports nothing else.
export type { Var, Closable } from './var.ts';
export { constVar, mapVar } from './var.ts';
export type { ActivityState, Pending, Ok, Failed } from './activity.ts';
export { PENDING, ok, failed } from './activity.ts';

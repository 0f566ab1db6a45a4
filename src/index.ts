// dtabd as a library: the dtab language, binding and delegation, and the system namers.
export * from './core/index.ts';
export * from './dtab/index.ts';
export * from './namer/index.ts';

// dtabd as a library: the dtab language, binding and delegation, namers and interpreters, and
// the reading of linkerd config files.
export * from './core/index.ts';
export * from './dtab/index.ts';
export * from './namer/index.ts';
export * from './config/index.ts';

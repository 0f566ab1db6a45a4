// Public surface of daemon/: the running process built from a linkerd config.
export { Daemon } from './daemon.ts';
export type { DaemonOptions, ReloadReport } from './daemon.ts';
export { RunningRouter } from './routers.ts';

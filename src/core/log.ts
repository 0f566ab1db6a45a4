// The logging surface the libraries use: a subset of pino's Logger, so the daemon passes its
// pino logger and library users pass nothing (silent) or their own.

export type LogFn = (objOrMsg: Record<string, unknown> | string, msg?: string) => void;

export interface Log {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const NOOP: LogFn = () => {};

export const SILENT_LOG: Log = Object.freeze({ debug: NOOP, info: NOOP, warn: NOOP, error: NOOP });

// Interpreter kinds as configured under a router's `interpreter` key: `default` (the router's
// dtab with the configured namers) and `io.l5d.fs` (the same, with a dtab read from a watched
// file in front). Kinds that talk to namerd or other stores are named as not supported yet.

import { resolve } from 'node:path';
import {
  type Activity,
  activityValue,
  ConfigError,
  ConfigReader,
  derivedActivity,
  failed,
  type Log,
  ok,
  PENDING,
} from '../core/index.ts';
import { Dtab, DtabParseError, type Lookup, readDtab } from '../dtab/index.ts';
import { watchFile } from './fs/index.ts';
import { configuredInterpreter, type Interpreter } from './interpreter.ts';
import type { ConfiguredNamer, NamerEnv, NamerRegistry } from './registry.ts';

const LATER_INTERPRETERS = [
  'io.l5d.namerd',
  'io.l5d.namerd.http',
  'io.l5d.mesh',
  'io.l5d.k8s.configMap',
  'io.l5d.consul.interpreter',
];

export interface InterpreterEnv extends NamerEnv {
  /** The `/$/` namers. */
  readonly global: Lookup;
}

/** Builds a router's interpreter from its `interpreter` config (absent: `default`). */
export function interpreterFromConfig(
  raw: unknown,
  at: string,
  namers: readonly ConfiguredNamer[],
  registry: NamerRegistry,
  env: InterpreterEnv,
): Interpreter {
  const config = new ConfigReader(raw ?? { kind: 'default' }, at);
  const kind = config.optionalString('kind') ?? 'default';
  const transformers = (config.optionalList('transformers') ?? []).map((t) => registry.transformer(t.value, t.at, env));
  let dtab: Activity<Dtab>;
  if (kind === 'default') {
    dtab = activityValue(Dtab.empty);
  } else if (kind === 'io.l5d.fs') {
    const file = resolve(config.string('dtabFile'));
    dtab = dtabFromFile(file, watchFile(file, { rescanIntervalMs: env.rescanIntervalMs, log: env.log }), env.log);
  } else if (LATER_INTERPRETERS.includes(kind)) {
    throw config.error('kind', `interpreter kind ${kind} is not supported yet`);
  } else {
    throw config.error('kind', `unknown interpreter kind ${JSON.stringify(kind)}; known kinds: default, io.l5d.fs`);
  }
  config.done();
  return configuredInterpreter({ kind, dtab, namers, transformers, global: env.global });
}

/** What a watched dtab file last gave: the dtab in use and the error of the latest edit, if any. */
export interface DtabFileStatus {
  readonly dtab: Dtab | undefined;
  readonly error: Error | undefined;
}

/**
 * The dtab of a watched file. A malformed edit keeps the last good dtab in use and is reported
 * (logged, and in {@link dtabFileStatus}); before any good dtab, the error fails binding. A
 * missing file is an error too, rather than linkerd's silent wait.
 */
export function dtabFromFile(file: string, text: Activity<string>, log: Log): Activity<Dtab> {
  let lastGood: Dtab | undefined;
  const activity = derivedActivity<Dtab>((use) => {
    const s = use(text);
    if (s.kind === 'pending') return PENDING;
    let error: Error;
    if (s.kind === 'ok') {
      try {
        lastGood = readDtab(s.value);
        statuses.set(activity, { dtab: lastGood, error: undefined });
        return ok(lastGood);
      } catch (e) {
        if (!(e instanceof DtabParseError)) throw e;
        error = new ConfigError('dtabFile', `${file}: ${e.message}`);
      }
    } else {
      error = new ConfigError('dtabFile', `${file}: ${s.error.message}`);
    }
    statuses.set(activity, { dtab: lastGood, error });
    if (lastGood === undefined) return failed(error);
    log.warn({ file, error: error.message }, 'dtab file unusable; keeping the last good dtab');
    return ok(lastGood);
  });
  return activity;
}

const statuses = new WeakMap<Activity<Dtab>, DtabFileStatus>();

/** The status of a dtab from {@link dtabFromFile} (undefined before it was first read). */
export function dtabFileStatus(dtab: Activity<Dtab>): DtabFileStatus | undefined {
  return statuses.get(dtab);
}

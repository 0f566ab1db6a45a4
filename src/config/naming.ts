// The naming half of a linkerd config: the `namers` list, and for a router its `dtab` and
// `interpreter`. Enough to bind and delegate names as that router would, without serving.

import { ConfigError, ConfigReader, type Log, SILENT_LOG } from '../core/index.ts';
import { Dtab, DtabParseError, readDtab } from '../dtab/index.ts';
import {
  builtinRegistry,
  type ConfiguredNamer,
  globalBinder,
  type Interpreter,
  type InterpreterEnv,
  interpreterFromConfig,
  type NamerRegistry,
  type Resolver,
  systemLookup,
  systemResolver,
} from '../namer/index.ts';
import { type ConfigFile, placeError } from './config-file.ts';

export interface NamingOptions {
  readonly resolver?: Resolver;
  readonly log?: Log;
  /** How often watched files are rescanned, in ms (1000). */
  readonly rescanIntervalMs?: number;
}

export interface RouterNaming {
  readonly label: string;
  /** The router's `dtab` (empty when it has none). */
  readonly dtab: Dtab;
  readonly interpreter: Interpreter;
  readonly namers: readonly ConfiguredNamer[];
}

/** What every router of one config shares: the registry, the environment and the namers. */
export interface SharedNaming {
  readonly registry: NamerRegistry;
  readonly env: InterpreterEnv;
  readonly namers: readonly ConfiguredNamer[];
}

/** linkerd's label of a router: its `label`, else its protocol's name. */
export function labelOf(router: unknown): string | undefined {
  if (router === null || typeof router !== 'object') return undefined;
  const r = router as Record<string, unknown>;
  const label = r.label ?? r.protocol;
  return typeof label === 'string' ? label : undefined;
}

/** Builds the `namers` of a config (top-level reader `top`). Throws ConfigError. */
export function sharedNaming(top: ConfigReader, options: NamingOptions): SharedNaming {
  const resolver = options.resolver ?? systemResolver;
  const log = options.log ?? SILENT_LOG;
  const global = systemLookup({
    resolver,
    onStale: (host, error) => log.warn({ host, error: error.message }, 'DNS refresh failed; keeping the last addresses'),
  });
  const env: InterpreterEnv = { resolver, log, rescanIntervalMs: options.rescanIntervalMs ?? 1000, bindGlobal: globalBinder(global), global };
  const registry = builtinRegistry();
  return { registry, env, namers: registry.namers(top.raw('namers'), 'namers', env) };
}

/** A router's `dtab` and `interpreter` (reader `router`), over the shared namers. Throws ConfigError. */
export function routerInterpreter(router: ConfigReader, shared: SharedNaming): { dtab: Dtab; interpreter: Interpreter } {
  let dtab = Dtab.empty;
  const text = router.optionalString('dtab');
  if (text !== undefined) {
    try {
      dtab = readDtab(text);
    } catch (e) {
      if (e instanceof DtabParseError) throw router.error('dtab', e.message);
      throw e;
    }
  }
  const interpreter = interpreterFromConfig(router.raw('interpreter'), router.keyAt('interpreter'), shared.namers, shared.registry, shared.env);
  return { dtab, interpreter };
}

/**
 * The naming of router `label` in `file` (the only router when `label` is undefined). Throws
 * ConfigFileError naming the key and line of the first problem.
 */
export function routerNaming(file: ConfigFile, label: string | undefined, options: NamingOptions = {}): RouterNaming {
  try {
    return build(file.root, label, options);
  } catch (e) {
    if (e instanceof ConfigError) throw placeError(file, e);
    throw e;
  }
}

function build(root: unknown, label: string | undefined, options: NamingOptions): RouterNaming {
  const top = new ConfigReader(root, '');
  const routers = top.optionalList('routers') ?? [];
  if (routers.length === 0) throw new ConfigError('routers', 'the config has no routers');
  const labels = routers.map((r) => labelOf(r.value));
  let index: number;
  if (label === undefined) {
    if (routers.length > 1) throw new ConfigError('routers', `several routers (${labels.join(', ')}): choose one by label`);
    index = 0;
  } else {
    index = labels.indexOf(label);
    if (index < 0) throw new ConfigError('routers', `no router labelled ${JSON.stringify(label)}; routers: ${labels.join(', ')}`);
  }
  const router = new ConfigReader(routers[index]!.value, routers[index]!.at);
  const shared = sharedNaming(top, options);
  const { dtab, interpreter } = routerInterpreter(router, shared);
  return { label: labels[index] ?? String(index), dtab, interpreter, namers: shared.namers };
}

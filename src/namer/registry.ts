// The registry of namer and transformer kinds, and the reading of their common config keys
// (linkerd's NamerConfig and TransformerConfig): `kind`, `prefix`, `experimental`, and a
// namer's own `transformers`. Each kind reads the rest of its keys itself.

import { type Activity, ConfigError, ConfigReader, type Log } from '../core/index.ts';
import { type BoundName, DtabParseError, type NameTree, type Path, readPath } from '../dtab/index.ts';
import type { Resolver } from './inet.ts';
import type { Namer, NamerKind } from './namer.ts';
import type { Transformer, TransformerKind } from './transformer.ts';

/** A namer as configured: where it is reached, and the transformers applied to its answers. */
export interface ConfiguredNamer {
  readonly kind: string;
  /** The full prefix, `/#` followed by the configured one: `/#/io.l5d.fs`. */
  readonly prefix: Path;
  readonly namer: Namer;
  readonly transformers: readonly Transformer[];
}

/** What namers and transformers are built with. */
export interface NamerEnv {
  readonly resolver: Resolver;
  readonly log: Log;
  readonly rescanIntervalMs: number;
  /** Binds a path with no dtab through the system namers (for `io.l5d.replace` and `const`). */
  readonly bindGlobal: (path: Path) => Activity<NameTree<BoundName>>;
}

/** Kinds linkerd 1 has that dtabd does not provide yet: named as such, not as unknown. */
const LATER_NAMERS = [
  'io.l5d.k8s',
  'io.l5d.k8s.ns',
  'io.l5d.k8s.external',
  'io.l5d.k8s.istio',
  'io.l5d.consul',
  'io.l5d.marathon',
  'io.l5d.serversets',
  'io.l5d.zkLeader',
  'io.l5d.curator',
  'io.l5d.dnssrv',
  'io.l5d.rancher',
];
const LATER_TRANSFORMERS = ['io.l5d.k8s.daemonset', 'io.l5d.k8s.localnode'];

/** Reads a path-valued config key (`prefix`, `path`, `dst`...), with the parser's message on error. */
export function readPathKey(config: ConfigReader, key: string): Path | undefined {
  const text = config.optionalString(key);
  if (text === undefined) return undefined;
  try {
    return readPath(text);
  } catch (e) {
    if (e instanceof DtabParseError) throw config.error(key, `not a path: ${e.message}`);
    throw e;
  }
}

function kindOf(config: ConfigReader, what: string): string {
  const kind = config.optionalString('kind');
  if (kind === undefined) throw config.error('kind', `is required (the ${what} kind, e.g. io.l5d.fs)`);
  return kind;
}

export class NamerRegistry {
  readonly #namers = new Map<string, NamerKind<unknown>>();
  readonly #transformers = new Map<string, TransformerKind<unknown>>();

  constructor(namers: readonly NamerKind<unknown>[], transformers: readonly TransformerKind<unknown>[]) {
    for (const k of namers) this.#namers.set(k.kind, k);
    for (const k of transformers) this.#transformers.set(k.kind, k);
  }

  get namerKinds(): readonly string[] {
    return [...this.#namers.keys()];
  }

  get transformerKinds(): readonly string[] {
    return [...this.#transformers.keys()];
  }

  /** Builds one entry of a `namers` list. Throws ConfigError naming the key. */
  namer(raw: unknown, at: string, env: NamerEnv): ConfiguredNamer {
    const config = new ConfigReader(raw, at);
    const kindName = kindOf(config, 'namer');
    const kind = this.#namers.get(kindName);
    if (kind === undefined) {
      if (LATER_NAMERS.includes(kindName)) throw config.error('kind', `namer kind ${kindName} is not supported yet`);
      throw config.error('kind', `unknown namer kind ${JSON.stringify(kindName)}; known kinds: ${this.namerKinds.join(', ')}`);
    }
    const experimental = config.optionalBoolean('experimental') ?? false;
    const configured = readPathKey(config, 'prefix');
    if (configured === undefined && kind.defaultPrefix === undefined) {
      throw config.error('prefix', `The 'prefix' property is required for the ${kindName} namer.`);
    }
    const prefix = HASH.concat((configured ?? kind.defaultPrefix)!);
    if (kind.experimental === true && !experimental) {
      // linkerd's words.
      throw config.error(
        'experimental',
        `The ${prefix.show} namer is experimental and must be explicitly enabled by setting the \`experimental' parameter to \`true'.`,
      );
    }
    const transformers = (config.optionalList('transformers') ?? []).map((t) => this.transformer(t.value, t.at, env));
    const parsed = kind.parseConfig(config);
    config.done();
    const namer = kind.create(parsed, { prefix, resolver: env.resolver, log: env.log, rescanIntervalMs: env.rescanIntervalMs });
    return { kind: kindName, prefix, namer, transformers };
  }

  /** Builds one entry of a `transformers` list. Throws ConfigError naming the key. */
  transformer(raw: unknown, at: string, env: NamerEnv): Transformer {
    const config = new ConfigReader(raw, at);
    const kindName = kindOf(config, 'transformer');
    const kind = this.#transformers.get(kindName);
    if (kind === undefined) {
      if (LATER_TRANSFORMERS.includes(kindName)) throw config.error('kind', `transformer kind ${kindName} is not supported yet`);
      throw config.error(
        'kind',
        `unknown transformer kind ${JSON.stringify(kindName)}; known kinds: ${this.transformerKinds.join(', ')}`,
      );
    }
    const configured = readPathKey(config, 'prefix');
    const parsed = kind.parseConfig(config);
    config.done();
    const prefix = PERCENT.concat(configured ?? kind.defaultPrefix(parsed));
    return kind.create(parsed, { prefix, resolver: env.resolver, log: env.log, bindGlobal: env.bindGlobal });
  }

  /**
   * Builds a `namers` list. Two namers may share a prefix: the later one is asked first and a
   * `~` answer falls through to the earlier one, as in linkerd.
   */
  namers(raw: unknown, at: string, env: NamerEnv): ConfiguredNamer[] {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) throw new ConfigError(at, 'expected a list of namers');
    return raw.map((n, i) => this.namer(n, `${at}[${i}]`, env));
  }
}

const HASH = readPath('/#');
const PERCENT = readPath('/%');

// What a namer is, and what a namer kind (one entry of the registry, e.g. `io.l5d.fs`) provides
// (linkerd's Namer, NamerConfig and NamerInitializer).

import type { Activity, ConfigReader, Log } from '../core/index.ts';
import type { Name, NameTree, Path } from '../dtab/index.ts';
import type { Resolver } from './inet.ts';

/**
 * Turns the rest of a concrete name into a tree of names. A namer configured at
 * `/#/io.l5d.fs` is asked `lookup(/web/residual)` for `/#/io.l5d.fs/web/residual`; it answers
 * `~` when it has no such name (the next namer is then tried), a bound leaf whose id is the
 * full name it bound (`/#/io.l5d.fs/web`) and whose residual is the rest, or paths to look up
 * again. The same path should give the same Activity while it is observed.
 */
export interface Namer {
  lookup(path: Path): Activity<NameTree<Name>>;
  /**
   * The concrete names a namer can list (linkerd's `/bound-names.json`), for namers that can
   * (`io.l5d.fs`: the files of its folder); waits at most `timeoutMs` for a first listing.
   */
  enumerate?(timeoutMs: number): Promise<string[]>;
  /** What `/namer_state/<prefix>.json` shows: the namer's watches and their last answers. */
  state?(): unknown;
  /** Counts exported as `namer/<prefix>/<key>`. */
  stats?(): Record<string, number>;
}

/** What a namer is built with. */
export interface NamerContext {
  /** Where the namer is reached, e.g. `/#/io.l5d.fs`: bound ids start with it. */
  readonly prefix: Path;
  /** DNS for host names. */
  readonly resolver: Resolver;
  readonly log: Log;
  /**
   * How often sources that cannot rely on change notification look again, in milliseconds
   * (the `io.l5d.fs` rescan). Tests shorten it.
   */
  readonly rescanIntervalMs: number;
}

/** One kind of namer in the registry. */
export interface NamerKind<C> {
  /** The config `kind`, e.g. `io.l5d.fs`. */
  readonly kind: string;
  /** The prefix used when the config gives none (`/io.l5d.fs`); undefined when one is required. */
  readonly defaultPrefix: Path | undefined;
  /** linkerd's `experimental: true` gate. */
  readonly experimental?: boolean;
  /**
   * Reads this kind's own keys (the common ones, `kind`, `prefix`, `experimental` and
   * `transformers`, are already read). Throws ConfigError naming the key.
   */
  parseConfig(config: ConfigReader): C;
  create(config: C, ctx: NamerContext): Namer;
}

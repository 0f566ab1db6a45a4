// The `io.l5d.rewrite` namer: rewrites names matching a pattern into another name to look up
// again, e.g. `/{service}/*` to `/svc/{service}` (linkerd's RewritingNamer).

import { LRUCache } from 'lru-cache';
import { type Activity, activityFailed, activityValue, asError, type ConfigReader } from '../core/index.ts';
import { type Name, type NameTree, Neg, type Path, readPath } from '../dtab/index.ts';
import type { Namer, NamerKind } from './namer.ts';
import { PathMatcher, PathMatcherError } from './path-matcher.ts';

/** How many looked-up names keep their answer. */
const CACHE_SIZE = 10_000;

export interface RewriteConfig {
  /** The compiled `pattern`. */
  readonly matcher: PathMatcher;
  /** The `name` template: a path with `{capture}`s of the pattern. */
  readonly name: string;
}

const NEG_ACTIVITY: Activity<NameTree<Name>> = activityValue(Neg);

/** Stands in for every capture when `name` is checked at configuration time. */
const PLACEHOLDER_VALUE = 'x';

/**
 * Refuses a `name` no lookup could turn into a path: one using a `{capture}` the pattern does
 * not have (a brace is never part of a path), or one that does not read as a path with each
 * capture filled in. Captured values are shown path elements, which read like `x`.
 */
function checkName(config: ConfigReader, matcher: PathMatcher, name: string): void {
  const known = new Set(matcher.names);
  for (const used of PathMatcher.placeholders(name)) {
    if (!known.has(used)) {
      const has = matcher.names.length === 0 ? 'none' : matcher.names.map((n) => `{${n}}`).join(', ');
      throw config.error('name', `{${used}} is not captured by the pattern (it captures ${has})`);
    }
  }
  const vars = new Map(matcher.names.map((n) => [n, PLACEHOLDER_VALUE]));
  try {
    readPath(PathMatcher.substitute(vars, name));
  } catch (e) {
    throw config.error('name', `${JSON.stringify(name)} is not a path with its captures filled in: ${asError(e).message}`);
  }
}

/**
 * A rewrite of names under the namer's prefix. A path the pattern matches becomes the `name`
 * template with the captured values, as a path to look up again; any other path is `~`. A
 * rewrite that does not read as a path (a capture that took nothing leaves `//`) fails.
 */
class RewritingNamer implements Namer {
  readonly #matcher: PathMatcher;
  readonly #name: string;
  // The answer depends on the path alone, but binding asks again each time anything it
  // watched changes, and reading the rewritten path is the costly part. Bounded, since
  // request names are unbounded; an evicted answer is rebuilt equal, so nothing is lost.
  readonly #answers = new LRUCache<string, Activity<NameTree<Name>>>({ max: CACHE_SIZE });

  constructor(matcher: PathMatcher, name: string) {
    this.#matcher = matcher;
    this.#name = name;
  }

  lookup(path: Path): Activity<NameTree<Name>> {
    const vars = this.#matcher.extract(path);
    // Not cached: a flood of names that do not match must not push out ones that do.
    if (vars === undefined) return NEG_ACTIVITY;
    const key = path.show;
    let answer = this.#answers.get(key);
    if (answer === undefined) {
      answer = this.#rewrite(path, PathMatcher.substitute(vars, this.#name));
      this.#answers.set(key, answer);
    }
    return answer;
  }

  #rewrite(path: Path, text: string): Activity<NameTree<Name>> {
    try {
      return activityValue({ kind: 'leaf', value: readPath(text) });
    } catch (e) {
      const cause = asError(e);
      const message = `io.l5d.rewrite: ${path.show} rewrites to ${JSON.stringify(text)}, which is not a path: ${cause.message}`;
      return activityFailed(new Error(message, { cause }));
    }
  }
}

/**
 * `io.l5d.rewrite`: keys `pattern` (a {@link PathMatcher} pattern) and `name` (the path to
 * rewrite to, using the pattern's captures). It has no default prefix; one must be configured.
 * @example { kind: io.l5d.rewrite, prefix: /rewrite, pattern: "/{service}/api", name: "/srv/{service}" }
 */
export const rewriteNamerKind: NamerKind<RewriteConfig> = {
  kind: 'io.l5d.rewrite',
  // linkerd: "The 'prefix' property is required for the io.l5d.rewrite namer."
  defaultPrefix: undefined,
  parseConfig(config) {
    const pattern = config.string('pattern');
    const name = config.string('name');
    let matcher: PathMatcher;
    try {
      matcher = PathMatcher.compile(pattern);
    } catch (e) {
      if (e instanceof PathMatcherError) throw config.error('pattern', e.message);
      throw e;
    }
    checkName(config, matcher, name);
    return { matcher, name };
  },
  create(config) {
    return new RewritingNamer(config.matcher, config.name);
  },
};

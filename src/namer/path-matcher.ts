// Path patterns with captures, such as `/#/io.l5d.k8s/{ns}/http/{service}` (linkerd's
// PathMatcher): matched element by element against a path, with the captured text substituted
// into another pattern. Used by `io.l5d.rewrite` and by per-prefix configuration.

import { type Path, readPath } from '../dtab/index.ts';

/** A pattern that could never match a path, refused when it is compiled. */
export class PathMatcherError extends Error {
  override readonly name = 'PathMatcherError';
  readonly expr: string;
  constructor(expr: string, detail: string) {
    super(`bad path pattern ${JSON.stringify(expr)}: ${detail}`);
    this.expr = expr;
  }
}

/**
 * One segment of a pattern. A capture segment is its literal texts with a capture between each
 * two (`{A}.{B}` is `['', '.', '']` around A and B).
 */
type Segment =
  | { readonly kind: 'any' }
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'capture'; readonly names: readonly string[]; readonly literals: readonly string[] };

const ANY: Segment = Object.freeze({ kind: 'any' });

/**
 * linkerd's capture syntax. Keep the class exactly as linkerd wrote it: `:-_` is a range
 * (`:` to `_`: `: ; < = > ? @`, upper-case letters, `[ \ ] ^ _`), so `-` is not a name character.
 */
const CAPTURE = /\{([a-zA-Z0-9.:-_]+)\}/g;

/** Any `{name}` in a substitution pattern; names never hold braces. */
const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Every character a shown path element can hold: label characters and `\xNN` escapes. */
const SHOWN_CHARS = /^[0-9A-Za-z_:.#$%\\-]*$/;

const NO_VARS: ReadonlyMap<string, string> = new Map();

/**
 * A compiled path pattern. Segments are separated by `/` and are either literal text (compared
 * with the path element as shown, so `\x20` matches an escaped space), `*` (any one element), or
 * text with captures `{name}`, each capture taking any run of characters.
 *
 * Matching looks at as many elements as the pattern has segments: the path may be longer (the
 * rest is ignored), but not shorter.
 *
 * @example
 * const m = PathMatcher.compile('/svc/{service}.svc.cluster.local');
 * m.extract(readPath('/svc/web.svc.cluster.local/x'))  // Map { service => 'web' }
 * m.substitutePath(readPath('/svc/web.svc.cluster.local'), '/k8s/{service}').show  // '/k8s/web'
 */
export class PathMatcher {
  /** The pattern as written. */
  readonly expr: string;
  /** The capture names, in order of first appearance. */
  readonly names: readonly string[];
  readonly #segments: readonly Segment[];

  /** Compiles `expr`. Throws {@link PathMatcherError} for a pattern that could never match. */
  constructor(expr: string) {
    if (typeof expr !== 'string') throw new TypeError('a path pattern must be a string');
    this.expr = expr;
    const names = new Set<string>();
    this.#segments = splitSegments(expr).map((text) => compileSegment(expr, text, names));
    this.names = [...names];
  }

  /** The same as `new PathMatcher(expr)`. */
  static compile(expr: string): PathMatcher {
    return new PathMatcher(expr);
  }

  /**
   * Replaces every `{name}` in `pattern` whose name is in `vars` with its value; other text,
   * including `{unknown}`, is left as it is.
   *
   * linkerd replaces one name after another, so a value that itself held `{other}` could be
   * replaced again depending on the order of its map. Captured values never hold braces (a
   * shown element has none), so one pass gives linkerd's result for every value `extract` gives.
   */
  static substitute(vars: ReadonlyMap<string, string>, pattern: string): string {
    if (vars.size === 0) return pattern;
    // A function replacement, so that `$&` or `$1` in a value is not read as a reference.
    return pattern.replace(PLACEHOLDER, (whole, name: string) => vars.get(name) ?? whole);
  }

  /** Every `{name}` a substitution pattern holds, in order, as {@link substitute} sees them. */
  static placeholders(pattern: string): string[] {
    return Array.from(pattern.matchAll(PLACEHOLDER), (m) => m[1]!);
  }

  /**
   * The captured values of `path`, or `undefined` when the pattern does not match it. A capture
   * used twice keeps its later value, as in linkerd.
   */
  extract(path: Path): ReadonlyMap<string, string> | undefined {
    const elems = path.elems;
    const segments = this.#segments;
    let vars: Map<string, string> | undefined;
    for (let i = 0; i < segments.length; i++) {
      // The path ran out before the pattern did. For a `*` segment linkerd's matcher throws
      // here (it takes the tail of an empty list); answering "no match" is what it meant.
      if (i >= elems.length) return undefined;
      const seg = segments[i]!;
      const elem = elems[i]!;
      if (seg.kind === 'any') continue;
      if (seg.kind === 'literal') {
        if (elem !== seg.text) return undefined;
        continue;
      }
      const groups = matchCaptures(seg.literals, elem);
      if (groups === undefined) return undefined;
      vars ??= new Map();
      for (let g = 0; g < groups.length; g++) vars.set(seg.names[g]!, groups[g]!);
    }
    return vars ?? NO_VARS;
  }

  /**
   * The path read from `pattern` with the values of `path` substituted, or `undefined` when the
   * pattern does not match `path`. Throws DtabParseError when the substituted text is not a path
   * (e.g. a capture that took nothing leaves `//`).
   */
  substitutePath(path: Path, pattern: string): Path | undefined {
    const vars = this.extract(path);
    return vars === undefined ? undefined : readPath(PathMatcher.substitute(vars, pattern));
  }

  toString(): string {
    return this.expr;
  }
}

/**
 * `expr.split("/")` in Java, without the leading empty segments, as linkerd splits a pattern:
 * Java drops trailing empty strings, so `/a/b/` has two segments and `/` or `` none.
 */
function splitSegments(expr: string): string[] {
  const parts = expr.split('/');
  let start = 0;
  while (start < parts.length && parts[start] === '') start++;
  let end = parts.length;
  while (end > start && parts[end - 1] === '') end--;
  return parts.slice(start, end);
}

function compileSegment(expr: string, text: string, names: Set<string>): Segment {
  // An empty segment (`/a//b`) is compared with a path element, and elements are never empty.
  if (text === '') throw new PathMatcherError(expr, 'it has an empty segment ("//"), which no path element can match');
  if (text === '*') return ANY;
  const captured: string[] = [];
  const literals: string[] = [];
  let last = 0;
  for (const m of text.matchAll(CAPTURE)) {
    literals.push(checkLiteral(expr, text, text.slice(last, m.index)));
    captured.push(m[1]!);
    names.add(m[1]!);
    last = m.index + m[0].length;
  }
  literals.push(checkLiteral(expr, text, text.slice(last)));
  if (captured.length === 0) return { kind: 'literal', text };
  // linkerd turns a segment with captures into a Java regex, escaping only `.`, so any other
  // regex character there would be regex syntax. Every literal piece left here holds only
  // characters a shown element can hold, and of those only `$` (an anchor) and `\` (an escape)
  // mean something to a regex; they are matched as plain characters, which is what the
  // pattern says. A name with a `.` in it, which linkerd fails to substitute and then fails
  // to compile, is an ordinary capture here.
  return { kind: 'capture', names: captured, literals };
}

/**
 * A literal piece of a segment, refused when no shown path element could contain it: a stray
 * brace (a `{name}` whose name has a character outside the capture class, such as `{a-b}`), or
 * any character outside the label characters and `\xNN` escapes (`*` inside a segment, a space,
 * non-ASCII text, which paths show escaped). linkerd accepts these, and they never match.
 */
function checkLiteral(expr: string, segment: string, piece: string): string {
  if (piece.includes('{') || piece.includes('}')) {
    throw new PathMatcherError(
      expr,
      `segment ${JSON.stringify(segment)} has a brace outside a capture; a capture is {name}, the name made of ` +
        `letters, digits, "." and the ASCII characters ":" to "_" (not "-")`,
    );
  }
  if (!SHOWN_CHARS.test(piece)) {
    throw new PathMatcherError(
      expr,
      `segment ${JSON.stringify(segment)} can never match: path elements show as letters, digits and "_:.#$%-", ` +
        `or as \\xNN escapes, and "*" stands only for a whole segment`,
    );
  }
  return piece;
}

/**
 * What linkerd's regex for a capture segment (each capture `(.*)`, the literals between them,
 * searched for anywhere in `text`, the first match taken) captures from `text`, or `undefined`
 * when it does not match. Computed without a regex: backtracking over several `(.*)` groups
 * takes time polynomial in the element length, and elements come from requests.
 *
 * Greedy groups leave each literal after the first at its last place that still leaves room
 * for the literals after it; the search takes the first place of the first literal. So the
 * literals are placed right to left with lastIndexOf, then the first with indexOf:
 *
 *   literals  ''   '-'   ''         text  f o o - b a r - b a z
 *   groups      A     B                   └─ A ─────────┘ └ B ┘
 */
function matchCaptures(literals: readonly string[], text: string): string[] | undefined {
  const k = literals.length - 1;
  const starts = new Array<number>(k + 1);
  let limit = text.length;
  for (let j = k; j >= 1; j--) {
    const lit = literals[j]!;
    const from = limit - lit.length;
    if (from < 0) return undefined;
    const at = text.lastIndexOf(lit, from);
    if (at < 0) return undefined;
    starts[j] = at;
    limit = at;
  }
  const first = literals[0]!;
  const at = text.indexOf(first);
  if (at < 0 || at + first.length > limit) return undefined;
  starts[0] = at;
  const groups = new Array<string>(k);
  for (let j = 1; j <= k; j++) groups[j - 1] = text.slice(starts[j - 1]! + literals[j - 1]!.length, starts[j]);
  return groups;
}

// What linkerd's rewriting system namers share (io.buoyant.RewritingNamer): an empty name is
// `~`, a rewritten name is a path to look up again (not a bound name), and no rewrite is `~`.

import { ok, type Ok } from '../../core/index.ts';
import { elemFromText, type Name, type NameTree, Neg, Path } from '../../dtab/index.ts';
import type { SystemNamer } from '../global.ts';

/** The rewritten path, or `undefined` when the name is not of the namer's form. */
export type Rewrite = (rest: Path) => Path | undefined;

export const NEG_STATE: Ok<NameTree<Name>> = ok(Neg);

/** A system namer answering `rewrite(rest)` as a path to look up again, or `~`. */
export function rewritingNamer(rewrite: Rewrite): SystemNamer {
  return (rest) => {
    if (rest.isEmpty) return NEG_STATE;
    const path = rewrite(rest);
    return path === undefined ? NEG_STATE : ok({ kind: 'leaf', value: path });
  };
}

/**
 * The path of text elements `texts` followed by `tail`, or `undefined` when an element would be
 * empty. Finagle's `Path.Utf8` builds a path with an empty element there, which cannot be
 * printed or read back; here such a rewrite is `~`. Elements go through text and back as in
 * linkerd, so bytes that are not UTF-8 come out as U+FFFD.
 */
export function textPath(texts: readonly string[], tail: Path): Path | undefined {
  const elems = new Array<string>(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i]!;
    if (t === '') return undefined;
    elems[i] = elemFromText(t);
  }
  return new Path(elems).concat(tail);
}

/**
 * Java's `String.split` on one character: trailing empty strings are dropped (`a:b:` is two
 * parts, `:` none), leading ones kept (`:80` is `''` and `80`), and a string without the
 * character is itself, even when empty.
 */
export function javaSplit(s: string, separator: string): string[] {
  const parts = s.split(separator);
  if (parts.length === 1) return parts;
  let end = parts.length;
  while (end > 0 && parts[end - 1] === '') end--;
  parts.length = end;
  return parts;
}

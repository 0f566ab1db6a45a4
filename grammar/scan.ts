// Scanners for the tokens with inner structure: paths, prefixes, weights and `=>`. Chevrotain
// calls them as custom token patterns (tokens.ts). Each one reads characters exactly as
// Finagle's parser does (spec/dtab.md §2, §3), so a token carries either its decoded value or
// the Finagle error found inside it, at the exact character. The parser raises that error only
// if the grammar accepts the token where it stands: an earlier grammar error wins, as it does
// in Finagle's left-to-right parse.

import { hexValue, isJavaDigit, isShowable, showElemBytes } from '../src/dtab/chars.ts';
import { ANY_ELEM } from '../src/dtab/prefix.ts';
import type { TokenError } from './errors.ts';

/** Payload of a path or prefix token: canonical elements, or the error inside it. */
export interface PathPayload {
  readonly elems: readonly string[];
  readonly error: TokenError | undefined;
}

/** Payload of a weight token: its value, or the error inside it. */
export interface NumberPayload {
  readonly value: number;
  readonly error: TokenError | undefined;
}

/** Payload of `=>`: the error when `=` is not followed by `>`. */
export interface ArrowPayload {
  readonly error: TokenError | undefined;
}

/** What a custom pattern returns to Chevrotain: the matched text plus a payload. */
export type Match<P> = [string] & { payload: P };

function match<P>(text: string, start: number, end: number, payload: P): Match<P> {
  const m = [text.substring(start, end)] as Match<P>;
  m.payload = payload;
  return m;
}

const NO_ELEMS: readonly string[] = Object.freeze([]);
const EMPTY_PATH: PathPayload = Object.freeze({ elems: NO_ELEMS, error: undefined });

/** True for the characters that can begin a label: a label character or `\`. */
function isLabelStart(code: number): boolean {
  return isShowable(code) || code === 0x5c;
}

/**
 * Where the last scan ended. The scanners return their payload and leave the end here, so the
 * tokenizer allocates no match object; `scanError` likewise carries a label's error out.
 */
export let scanEnd = 0;
let scanError: TokenError | undefined;

/**
 * Reads one label starting at `i` (which holds a label start). Sets `scanEnd` past it, or sets
 * `scanError`. Returns the canonical element.
 */
function scanLabel(text: string, i: number): string {
  const start = i;
  const n = text.length;
  // The common case: a run of raw label characters, cut out in one substring.
  while (i < n && isShowable(text.charCodeAt(i))) i++;
  if (i === n || text.charCodeAt(i) !== 0x5c /* \ */) {
    scanEnd = i;
    return text.substring(start, i);
  }
  for (;;) {
    const c = i < n ? text.charCodeAt(i) : -1;
    if (c === 0x5c /* \ */) {
      if (text.charCodeAt(i + 1) !== 0x78 /* x */) {
        scanError = { offset: i + 1, expected: "'x'", markOffset: i + 1 };
        return '';
      }
      if (hexValue(text.charCodeAt(i + 2)) < 0) {
        scanError = { offset: i + 2, expected: 'hex char', markOffset: i + 2 };
        return '';
      }
      if (hexValue(text.charCodeAt(i + 3)) < 0) {
        scanError = { offset: i + 3, expected: 'hex char', markOffset: i + 3 };
        return '';
      }
      i += 4;
    } else if (isShowable(c)) {
      i++;
    } else {
      break;
    }
  }
  scanEnd = i;
  return decodeLabel(text, start, i);
}

/** Canonical form of a label with escapes: its bytes, shown raw or all as `\xNN`. */
function decodeLabel(text: string, start: number, end: number): string {
  const bytes: number[] = [];
  for (let i = start; i < end; ) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) {
      bytes.push((hexValue(text.charCodeAt(i + 2)) << 4) | hexValue(text.charCodeAt(i + 3)));
      i += 4;
    } else {
      bytes.push(c);
      i++;
    }
  }
  return showElemBytes(bytes);
}

/** The first `n` elements of the scratch array, in an array with no spare capacity. */
function taken(n: number): string[] {
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = scratch[i]!;
  return out;
}

/**
 * Where readPathLike gathers elements (it never re-enters). Filled by index, never truncated:
 * setting `length` would give its storage back and make the next path grow it again.
 */
const scratch: string[] = [];

function put(k: number, elem: string): void {
  if (k < scratch.length) scratch[k] = elem;
  else scratch.push(elem);
}

/**
 * Reads a path starting at the `/` at `offset`: `/` then, if a label can start, labels
 * separated by single `/`s. A `/` must be followed by a label (`/a/` and `/a//b` are errors);
 * `/` alone is the empty path. With `wildcards`, a `*` element is allowed too (a dentry prefix).
 * The elements leave in an exact-size array: one grown by push keeps room for 17, which a
 * parsed dtab would carry for as long as it lives.
 */
export function readPathLike(text: string, offset: number, wildcards: boolean): PathPayload {
  const n = text.length;
  let i = offset + 1;
  const first = i < n ? text.charCodeAt(i) : -1;
  if (!(isLabelStart(first) || (wildcards && first === 0x2a))) {
    scanEnd = i;
    return EMPTY_PATH;
  }
  let k = 0;
  for (;;) {
    if (wildcards && text.charCodeAt(i) === 0x2a /* * */) {
      put(k++, ANY_ELEM);
      i++;
    } else if (i < n && isLabelStart(text.charCodeAt(i))) {
      scanError = undefined;
      const elem = scanLabel(text, i);
      if (scanError !== undefined) {
        scanEnd = i;
        return { elems: taken(k), error: scanError };
      }
      put(k++, elem);
      i = scanEnd;
    } else {
      // a `/` that no element follows
      scanEnd = i;
      return { elems: taken(k), error: { offset: i, expected: 'label char', markOffset: i } };
    }
    if (text.charCodeAt(i) !== 0x2f) break;
    i++;
  }
  scanEnd = i;
  return { elems: taken(k), error: undefined };
}

/** Custom pattern: a path in a name tree (no wildcards). */
export function scanPath(text: string, offset: number): Match<PathPayload> | null {
  if (text.charCodeAt(offset) !== 0x2f /* / */) return null;
  const payload = readPathLike(text, offset, false);
  return match(text, offset, scanEnd, payload);
}

/** Custom pattern: a dentry prefix (wildcards allowed). */
export function scanPrefix(text: string, offset: number): Match<PathPayload> | null {
  if (text.charCodeAt(offset) !== 0x2f /* / */) return null;
  const payload = readPathLike(text, offset, true);
  return match(text, offset, scanEnd, payload);
}

/**
 * Reads a weight at `offset` (a digit or `.`): the longest run of digits (Java `isDigit`) and
 * `.`s. A second `.` is an error at that dot; a lone `.` is a `weight` error marked one
 * character on (Finagle's quirk); digits outside ASCII are rejected, as Java's `toDouble`
 * rejects them.
 */
export function readNumber(text: string, offset: number): NumberPayload {
  const n = text.length;
  let i = offset;
  let seenDot = false;
  let firstNonAscii = -1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (seenDot) {
        scanEnd = i;
        return { value: NaN, error: { offset: i, expected: 'number char', markOffset: i } };
      }
      seenDot = true;
    } else if (c < 0x30 || c > 0x39) {
      if (!isJavaDigit(c)) break;
      if (firstNonAscii < 0) firstNonAscii = i;
    }
    i++;
  }
  scanEnd = i;
  if (i === offset + 1 && seenDot) {
    // linkerd 1 compat: Finagle reports a lone '.' after consuming it, so the mark moves on.
    return { value: NaN, error: { offset, expected: 'weight', markOffset: i } };
  }
  if (firstNonAscii >= 0) {
    return { value: NaN, error: { offset: firstNonAscii, expected: 'number char', markOffset: firstNonAscii } };
  }
  return { value: Number(text.substring(offset, i)), error: undefined };
}

/** Custom pattern for a weight. */
export function scanNumber(text: string, offset: number): Match<NumberPayload> | null {
  const c = text.charCodeAt(offset);
  if (!(c === 0x2e || (c >= 0x30 && c <= 0x39))) return null;
  const payload = readNumber(text, offset);
  return match(text, offset, scanEnd, payload);
}

const ARROW_OK: ArrowPayload = Object.freeze({ error: undefined });

/** Reads `=>` at the `=` at `offset`, or a lone `=` carrying the error `'>' expected`. */
export function readArrow(text: string, offset: number): ArrowPayload {
  if (text.charCodeAt(offset + 1) === 0x3e /* > */) {
    scanEnd = offset + 2;
    return ARROW_OK;
  }
  scanEnd = offset + 1;
  return { error: { offset: offset + 1, expected: "'>'", markOffset: offset + 1 } };
}

/** Custom pattern for `=>`. */
export function scanArrow(text: string, offset: number): Match<ArrowPayload> | null {
  if (text.charCodeAt(offset) !== 0x3d /* = */) return null;
  const payload = readArrow(text, offset);
  return match(text, offset, scanEnd, payload);
}

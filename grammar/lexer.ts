// The tokenizer the parser runs on: a hand-written single pass producing the same tokens as
// the declarative Chevrotain lexer in tokens.ts (a differential fuzz test keeps the two equal).
// Profiling put Chevrotain's generic lexer at a third of a short dtab's parse time; this loop
// dispatches on one character instead of trying patterns.

import type { IToken, TokenType } from 'chevrotain';
import { isJavaWhitespace } from '../src/dtab/chars.ts';
import { readArrow, readNumber, readPathLike, scanEnd } from './scan.ts';
import {
  Amp,
  Arrow,
  Bang,
  Dollar,
  LParen,
  NumberTok,
  PathTok,
  Pipe,
  PrefixTok,
  RParen,
  Semi,
  Star,
  Tilde,
  Unknown,
} from './tokens.ts';

/** Token type of each single-character token, by char code. */
const SINGLE: (TokenType | undefined)[] = [];
for (const [ch, t] of [
  [';', Semi],
  ['|', Pipe],
  ['&', Amp],
  ['*', Star],
  ['(', LParen],
  [')', RParen],
  ['!', Bang],
  ['~', Tilde],
  ['$', Dollar],
] as const) {
  SINGLE[ch.charCodeAt(0)] = t;
}

/**
 * A token with the fields Chevrotain's lexer sets under `positionTracking: 'onlyOffset'`. The
 * parser never reads `image` on success, so it is cut from the input only when asked for.
 */
class Token implements IToken {
  readonly #text: string;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly tokenTypeIdx: number;
  readonly tokenType: TokenType;
  readonly payload: unknown;

  constructor(tokenType: TokenType, text: string, start: number, end: number, payload: unknown) {
    this.#text = text;
    this.startOffset = start;
    this.endOffset = end - 1;
    this.tokenTypeIdx = tokenType.tokenTypeIdx!;
    this.tokenType = tokenType;
    this.payload = payload;
  }

  get image(): string {
    return this.#text.substring(this.startOffset, this.endOffset + 1);
  }
}

/**
 * Tokens of `text`. With `prefixes`, a `/` that starts the input or follows `;` begins a dentry
 * prefix (wildcards allowed); every other `/` begins a path. Never fails: a character no token
 * starts with is an Unknown token for the parser to report.
 */
export function tokenize(text: string, prefixes: boolean): IToken[] {
  const out: IToken[] = [];
  const n = text.length;
  let i = 0;
  let prefixNext = prefixes;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x23 /* # */) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    if (isJavaWhitespace(c)) {
      i++;
      continue;
    }
    let type: TokenType;
    let payload: unknown;
    let end: number;
    if (c === 0x2f /* / */) {
      type = prefixNext ? PrefixTok : PathTok;
      payload = readPathLike(text, i, prefixNext);
      end = scanEnd;
    } else if (c === 0x3d /* = */) {
      type = Arrow;
      payload = readArrow(text, i);
      end = scanEnd;
    } else if ((c >= 0x30 && c <= 0x39) || c === 0x2e) {
      type = NumberTok;
      payload = readNumber(text, i);
      end = scanEnd;
    } else {
      type = (c < 128 ? SINGLE[c] : undefined) ?? Unknown;
      payload = undefined;
      end = i + 1;
    }
    out.push(new Token(type, text, i, end, payload));
    i = end;
    prefixNext = prefixes && type === Semi;
  }
  return out;
}

// Tokens of the dtab language for Chevrotain's lexer (spec/dtab.md §2).
//
// Paths and prefixes are single tokens, so whitespace can never stand inside one (`/a /b` is a
// path and then junk). Comments and whitespace are skipped, which matches Finagle: it skips
// them between every two tokens and nowhere else. Token order matters only where two tokens can
// start with the same character; the comments below say which wins.

import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';
import { JAVA_WHITESPACE_CLASS } from '../src/dtab/chars.ts';
import { scanArrow, scanNumber, scanPath, scanPrefix } from './scan.ts';

/** Java `Character.isWhitespace`, not `\s` (spec/dtab.md §2.3). */
export const WhiteSpace = createToken({
  name: 'WhiteSpace',
  pattern: new RegExp(JAVA_WHITESPACE_CLASS + '+'),
  group: Lexer.SKIPPED,
  line_breaks: true,
});

/** `#` to the end of the line, newline included. Inside a path `#` is a label char instead. */
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*\n?/, group: Lexer.SKIPPED });

export const Semi = createToken({ name: 'Semi', pattern: ';', label: "';'" });

/**
 * A dentry prefix. It can only stand first in a dtab or right after `;`, so the pattern looks at
 * the previous token and leaves every other `/` to {@link PathTok}.
 */
export const PrefixTok = createToken({
  name: 'Prefix',
  label: 'prefix',
  pattern: {
    exec: (text: string, offset: number, tokens: IToken[]) => {
      const prev = tokens.length === 0 ? undefined : tokens[tokens.length - 1]!.tokenType;
      return prev === undefined || prev === Semi ? scanPrefix(text, offset) : null;
    },
  },
  start_chars_hint: ['/'],
  line_breaks: false,
});

export const PathTok = createToken({
  name: 'Path',
  label: 'path',
  pattern: { exec: (text: string, offset: number) => scanPath(text, offset) },
  start_chars_hint: ['/'],
  line_breaks: false,
});

export const Arrow = createToken({
  name: 'Arrow',
  label: "'=>'",
  pattern: { exec: (text: string, offset: number) => scanArrow(text, offset) },
  start_chars_hint: ['='],
  line_breaks: false,
});

const DIGIT_HINTS = ['.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/**
 * A weight: digits and `.`. Java's `isDigit` also takes non-ASCII digits, which Finagle then
 * fails to convert; here one inside a weight is rejected at its position, and one that would
 * start a weight is an {@link Unknown} character. Both are rejected, as in Finagle.
 */
export const NumberTok = createToken({
  name: 'Number',
  label: 'weight',
  pattern: { exec: (text: string, offset: number) => scanNumber(text, offset) },
  start_chars_hint: DIGIT_HINTS,
  line_breaks: false,
});

export const Pipe = createToken({ name: 'Pipe', pattern: '|', label: "'|'" });
export const Amp = createToken({ name: 'Amp', pattern: '&', label: "'&'" });
export const Star = createToken({ name: 'Star', pattern: '*', label: "'*'" });
export const LParen = createToken({ name: 'LParen', pattern: '(', label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: ')', label: "')'" });
export const Bang = createToken({ name: 'Bang', pattern: '!', label: "'!'" });
export const Tilde = createToken({ name: 'Tilde', pattern: '~', label: "'~'" });
/** `$` alone is Empty; right after `/` it is a label char, which the path token takes first. */
export const Dollar = createToken({ name: 'Dollar', pattern: '$', label: "'$'" });

/**
 * Any other single character (UTF-16 unit). Lexing never fails: the parser reports the
 * character where the grammar meets it, with what it expected there, as Finagle does.
 */
export const Unknown = createToken({
  name: 'Unknown',
  pattern: /[\u0000-\uffff]/,
  line_breaks: true,
});

const COMMON: TokenType[] = [
  WhiteSpace,
  Comment,
  Semi,
  Arrow,
  NumberTok,
  Pipe,
  Amp,
  Star,
  LParen,
  RParen,
  Bang,
  Tilde,
  Dollar,
];

/** Every token type, for the parser. `PrefixTok` comes before `PathTok`: it wins where valid. */
export const ALL_TOKENS: TokenType[] = [...COMMON.slice(0, 2), PrefixTok, PathTok, ...COMMON.slice(2), Unknown];

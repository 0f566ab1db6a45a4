// The dtab lexers declared with Chevrotain: the token patterns of tokens.ts run by Chevrotain's
// own lexer. Production parses with the hand-written tokenizer in lexer.ts; these are the
// specification it is tested against (test/grammar/lexer-differential.test.ts), kept out of
// the production import graph because building them costs milliseconds at start-up.

import { Lexer } from 'chevrotain';
import { ALL_TOKENS, PrefixTok } from './tokens.ts';

const LEXER_OPTIONS = { positionTracking: 'onlyOffset', ensureOptimizations: true } as const;

/** For dtabs, dentries and prefixes: a `/` at a dentry's start is a prefix. */
export const dtabLexer = new Lexer(ALL_TOKENS, LEXER_OPTIONS);

/** For paths and name trees: every `/` starts a path. */
export const treeLexer = new Lexer(
  ALL_TOKENS.filter((t) => t !== PrefixTok),
  LEXER_OPTIONS,
);

// The dtab grammar as a Chevrotain parser with embedded actions (spec/dtab.md §3). Each rule
// builds its value directly: the parser sits on the request path because of `l5d-dtab`.
//
//   dtab     = [ dentry { ";" dentry } [ ";" ] ]      (";" then end of input ends the dtab)
//   dentry   = prefix "=>" tree
//   tree     = union { "|" union }                    Alt when more than one
//   union    = weighted { "&" weighted }              Union when more than one
//   weighted = [ number "*" ] simple                  a lone term's weight is dropped
//   simple   = "(" tree ")" | path | "!" | "~" | "$"
//
// Errors: a grammar mismatch is described by the message provider below in Finagle's words
// (what Finagle's parser function would have expected at that character); an error inside a
// token (scan.ts) is raised when the grammar accepts the token. Either way the first error in
// reading order wins, as in Finagle's single left-to-right pass.

import { EmbeddedActionsParser, EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';
import { Dentry } from '../src/dtab/dentry.ts';
import { Dtab } from '../src/dtab/dtab.ts';
import type { NameTree, Weighted } from '../src/dtab/name-tree.ts';
import { Empty, Fail, Neg } from '../src/dtab/name-tree.ts';
import { Path } from '../src/dtab/path.ts';
import { Prefix } from '../src/dtab/prefix.ts';
import { DtabParseError, errorAt, type Expected, type TokenError } from './errors.ts';
import type { ArrowPayload, NumberPayload, PathPayload } from './scan.ts';
import {
  ALL_TOKENS,
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
} from './tokens.ts';

/**
 * How deep parentheses may nest. Real dtabs nest a few levels. The parser recurses about 18
 * frames per level and a cold (interpreted) parser overflows Node's default stack between 300
 * and 400 levels, so 100 leaves room for callers that are themselves deep in a stack. Deeper
 * input is a parse error, never a stack overflow. (Finagle has no bound: it recurses until the
 * JVM's stack overflows.)
 */
export const MAX_NESTING = 100;

/** What Finagle's parser expects where the grammar wanted `tokenType`. */
function expectedFor(tokenType: TokenType): Expected {
  if (tokenType === Arrow) return "'='";
  if (tokenType === RParen) return "')'";
  if (tokenType === Star) return "'*'";
  return "'/'"; // a path or a prefix: Finagle's eat('/')
}

/** The first grammar error of the current parse, recorded by the message provider. */
let firstError: { token: IToken; expected: Expected } | undefined;

function record(token: IToken | undefined, expected: Expected): Expected {
  if (firstError === undefined && token !== undefined) firstError = { token, expected };
  return expected;
}

/**
 * Chevrotain calls this only on the failure path, once per error. It records the first error
 * with the Finagle "expected" word, which {@link DtabParser.failure} turns into the message.
 * (Reading the parser's `errors` instead would copy an array on every successful parse.)
 */
const finagleMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) => record(actual, expectedFor(expected)),
  buildNotAllInputParsedMessage: ({ firstRedundant }) => record(firstRedundant, 'end of input'),
  // Only two rules choose: `simple` (Finagle's parseSimple) and a dtab's dentry-or-end.
  buildNoViableAltMessage: ({ ruleName, actual }) => record(actual[0], ruleName === 'simple' ? 'simple' : "'/'"),
  buildEarlyExitMessage: ({ actual }) => record(actual[0], 'simple'),
};

const EMPTY = (): void => {};

/** The parser; one instance, reset per input. Use the functions in index.ts. */
export class DtabParser extends EmbeddedActionsParser {
  /** The text being parsed, for error messages. */
  text = '';
  #depth = 0;

  constructor() {
    super(ALL_TOKENS, {
      recoveryEnabled: false,
      maxLookahead: 1,
      errorMessageProvider: finagleMessages,
      skipValidations: false,
    });
    this.performSelfAnalysis();
  }

  readonly #atEnd = (): boolean => this.LA(1).tokenType === EOF;

  /** Resets for a new input. */
  begin(text: string, tokens: IToken[]): void {
    this.text = text;
    this.#depth = 0;
    firstError = undefined;
    this.input = tokens;
  }

  /** The first error as a DtabParseError, or undefined when the parse succeeded. */
  failure(): DtabParseError | undefined {
    const e = firstError;
    if (e === undefined) return undefined;
    const tok = e.token;
    const offset = tok.tokenType === EOF || Number.isNaN(tok.startOffset) ? this.text.length : tok.startOffset;
    return errorAt(this.text, offset, e.expected);
  }

  #raise(error: TokenError | undefined): void {
    if (error !== undefined && !this.RECORDING_PHASE) {
      throw errorAt(this.text, error.offset, error.expected, error.markOffset);
    }
  }

  #path(tok: IToken): Path {
    const p = tok.payload as PathPayload | undefined;
    if (p === undefined) return Path.empty; // recording phase
    this.#raise(p.error);
    return p.elems.length === 0 ? Path.empty : new Path(p.elems);
  }

  #prefix(tok: IToken): Prefix {
    const p = tok.payload as PathPayload | undefined;
    if (p === undefined) return Prefix.empty;
    this.#raise(p.error);
    return p.elems.length === 0 ? Prefix.empty : new Prefix(p.elems);
  }

  readonly pathAll = this.RULE('pathAll', (): Path => this.#path(this.CONSUME(PathTok)));

  readonly prefixAll = this.RULE('prefixAll', (): Prefix => this.#prefix(this.CONSUME(PrefixTok)));

  readonly treeAll = this.RULE('treeAll', (): NameTree<Path> => this.SUBRULE(this.tree));

  readonly dentryAll = this.RULE('dentryAll', (): Dentry => this.SUBRULE(this.dentry));

  /** Dentries of the dtab being read (the dtab rule does not nest, so one field serves). */
  #dentries: Dentry[] = [];
  #dtabAlts: { GATE?: () => boolean; ALT: () => void }[] | undefined;
  #moreAlts: { GATE?: () => boolean; ALT: () => void }[] | undefined;

  readonly dtabAll = this.RULE('dtabAll', (): Dtab => {
    this.#dentries = [];
    // Either nothing at all, or dentries where each ';' is followed by a dentry or by the end
    // of input: `;;`, a leading `;` and a lone `;` fail at the ';' with Finagle's `'/'`.
    this.OR(
      (this.#dtabAlts ??= [
        {
          ALT: () => {
            this.#dentries.push(this.SUBRULE(this.dentry));
            this.MANY(this.#moreDentries);
          },
        },
        { GATE: this.#atEnd, ALT: EMPTY },
      ]),
    );
    const dentries = this.#dentries;
    // slice(): an exact-size copy, since the pushed array keeps spare room the Dtab would carry.
    return dentries.length === 0 ? Dtab.empty : new Dtab(dentries.slice());
  });

  readonly #moreDentries = (): void => {
    this.CONSUME(Semi);
    this.OR2(
      (this.#moreAlts ??= [
        { ALT: () => void this.#dentries.push(this.SUBRULE2(this.dentry)) },
        { GATE: this.#atEnd, ALT: EMPTY },
      ]),
    );
  };

  readonly dentry = this.RULE('dentry', (): Dentry => {
    const prefix = this.#prefix(this.CONSUME(PrefixTok));
    const arrow = this.CONSUME(Arrow);
    this.#raise((arrow.payload as ArrowPayload | undefined)?.error);
    const tree = this.SUBRULE(this.tree);
    return new Dentry(prefix, tree);
  });

  readonly tree = this.RULE('tree', (): NameTree<Path> => {
    const first = this.SUBRULE(this.union);
    let trees: NameTree<Path>[] | undefined;
    this.MANY(() => {
      this.CONSUME(Pipe);
      const next = this.SUBRULE2(this.union);
      if (trees === undefined) trees = [first, next];
      else trees.push(next);
    });
    return trees === undefined ? first : { kind: 'alt', trees };
  });

  readonly union = this.RULE('union', (): NameTree<Path> => {
    const first = this.SUBRULE(this.weighted);
    let trees: Weighted<Path>[] | undefined;
    this.MANY(() => {
      this.CONSUME(Amp);
      const next = this.SUBRULE2(this.weighted);
      if (trees === undefined) trees = [first, next];
      else trees.push(next);
    });
    // A lone term is its tree: its weight is dropped (`0.5*/a` reads as `/a`).
    return trees === undefined ? first.tree : { kind: 'union', trees };
  });

  readonly weighted = this.RULE('weighted', (): Weighted<Path> => {
    let weight = 1.0;
    this.OPTION(() => {
      const num = this.CONSUME(NumberTok);
      const p = num.payload as NumberPayload | undefined;
      if (p !== undefined) {
        this.#raise(p.error);
        weight = p.value;
      }
      this.CONSUME(Star);
    });
    return { weight, tree: this.SUBRULE(this.simple) };
  });

  #simpleAlts: { ALT: () => NameTree<Path> }[] | undefined;

  readonly simple = this.RULE('simple', (): NameTree<Path> =>
    this.OR(
      (this.#simpleAlts ??= [
        {
          ALT: () => {
            const open = this.CONSUME(LParen);
            if (++this.#depth > MAX_NESTING && !this.RECORDING_PHASE) {
              throw DtabParseError.tooDeep(this.text, open.startOffset, MAX_NESTING);
            }
            const t = this.SUBRULE(this.tree);
            this.CONSUME(RParen);
            this.#depth--;
            return t;
          },
        },
        { ALT: () => ({ kind: 'leaf', value: this.#path(this.CONSUME(PathTok)) }) },
        { ALT: () => (this.CONSUME(Bang), Fail) },
        { ALT: () => (this.CONSUME(Tilde), Neg) },
        { ALT: () => (this.CONSUME(Dollar), Empty) },
      ]),
    ),
  );
}

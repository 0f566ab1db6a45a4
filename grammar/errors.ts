// DtabParseError: the one error type the dtab grammar throws, with Finagle's message format
// (spec/dtab.md §10):  <expected> expected but <found> found at '<input with [c] marked>'.

/** What the parser wanted at the failing position, in Finagle's words. */
export type Expected =
  | "'/'"
  | "'='"
  | "'>'"
  | "')'"
  | "'*'"
  | "'x'"
  | 'end of input'
  | 'label char'
  | 'hex char'
  | 'simple'
  | 'number char'
  | 'weight';

/** A dtab, dentry, prefix, path or name tree that does not parse. */
export class DtabParseError extends Error {
  override readonly name = 'DtabParseError';
  /** Offset (UTF-16 units) of the offending character in `input`; `input.length` at its end. */
  readonly offset: number;
  readonly input: string;
  readonly expected: Expected;
  /** The character found there, or `undefined` at end of input. */
  readonly found: string | undefined;

  constructor(
    input: string,
    offset: number,
    expected: Expected,
    found: string | undefined,
    markOffset = offset,
    message = formatMessage(input, markOffset, expected, found),
  ) {
    super(message);
    this.input = input;
    this.offset = offset;
    this.expected = expected;
    this.found = found;
  }

  /**
   * Parentheses nested past `limit`. Finagle has no such bound (it recurses until the JVM's
   * stack overflows); here the limit turns hostile input into a parse error.
   */
  static tooDeep(input: string, offset: number, limit: number): DtabParseError {
    const shown = input.slice(0, offset) + '[(]' + input.slice(offset + 1);
    const message = `parentheses nested deeper than ${limit} at '${clip(shown)}'`;
    return new DtabParseError(input, offset, 'simple', '(', offset, message);
  }
}

/** Long inputs are shown in full, as Finagle does; only the nesting error clips its echo. */
function clip(s: string): string {
  return s.length <= 200 ? s : s.slice(0, 100) + '...' + s.slice(-100);
}

/**
 * Finagle's message. `markOffset` is normally the offset of the found character; Finagle marks
 * the character after a lone `.` weight (spec/dtab.md §10 quirk), so it may differ.
 */
function formatMessage(input: string, markOffset: number, expected: Expected, found: string | undefined): string {
  const shown =
    markOffset >= input.length
      ? input + '[]'
      : input.slice(0, markOffset) + '[' + input[markOffset] + ']' + input.slice(markOffset + 1);
  const foundText = found === undefined ? 'end of input' : `'${found}'`;
  return `${expected} expected but ${foundText} found at '${shown}'`;
}

/** An error found inside one token (a path, prefix, number or `=>`), kept as its payload. */
export interface TokenError {
  readonly offset: number;
  readonly expected: Expected;
  readonly markOffset: number;
}

/** The error at `offset` of `input`: the character there, or end of input. */
export function errorAt(input: string, offset: number, expected: Expected, markOffset = offset): DtabParseError {
  return new DtabParseError(input, offset, expected, offset < input.length ? input[offset] : undefined, markOffset);
}

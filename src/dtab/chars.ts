// Character classes of the dtab language (spec/dtab.md §2), shared by the scanner in grammar/
// and by the printers here. Tables indexed by UTF-16 code unit keep every test branch-free.

/** 1 for the 69 ASCII characters a label may hold raw: `0-9 A-Z a-z _ : . # $ % -`. */
const SHOWABLE = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  SHOWABLE[c] = /[0-9A-Za-z_:.#$%-]/.test(ch) ? 1 : 0;
}

/** Whether `code` (a UTF-16 unit or a byte) may appear raw in a label. */
export function isShowable(code: number): boolean {
  return code < 128 && SHOWABLE[code] === 1;
}

/**
 * Java's `Character.isWhitespace` for one UTF-16 unit: U+0009-U+000D, U+001C-U+0020, U+1680,
 * U+2000-U+2006, U+2008-U+200A, U+2028, U+2029, U+205F, U+3000. Not NBSP, U+2007, U+202F or
 * U+FEFF, and so not JavaScript's `\s`.
 */
export function isJavaWhitespace(code: number): boolean {
  if (code <= 0x20) return (code >= 0x09 && code <= 0x0d) || code >= 0x1c;
  if (code < 0x1680) return false;
  return (
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a && code !== 0x2007) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** The same set as a regular-expression character class, for the Chevrotain whitespace token. */
export const JAVA_WHITESPACE_CLASS =
  '[\\t\\n\\u000b\\f\\r\\u001c-\\u0020\\u1680\\u2000-\\u2006\\u2008-\\u200a\\u2028\\u2029\\u205f\\u3000]';

const UNICODE_DIGIT = /^\p{Nd}$/u;

/**
 * Java's `Character.isDigit` for one UTF-16 unit (general category Nd, BMP only: a surrogate
 * half is never a digit).
 */
export function isJavaDigit(code: number): boolean {
  if (code >= 0x30 && code <= 0x39) return true;
  if (code < 0x660 || (code >= 0xd800 && code <= 0xdfff)) return false;
  return UNICODE_DIGIT.test(String.fromCharCode(code));
}

/** Value of an ASCII hex digit, or -1. */
export function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return -1;
}

const HEX = '0123456789abcdef';

/**
 * The canonical printed form of one element given as bytes: raw when every byte is showable,
 * otherwise every byte as `\xNN` (lower-case hex), as Finagle's `Path.showElem` does.
 */
export function showElemBytes(bytes: ArrayLike<number>): string {
  let raw = true;
  for (let i = 0; i < bytes.length; i++) {
    if (!isShowable(bytes[i]!)) {
      raw = false;
      break;
    }
  }
  let out = '';
  if (raw) {
    for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
    return out;
  }
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out += '\\x' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/** Whether a string is already a canonical raw element (non-empty, all showable). */
export function isRawElem(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isShowable(s.charCodeAt(i))) return false;
  return true;
}

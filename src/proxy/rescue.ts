// The one place errors become responses, as linkerd's ErrorResponder makes them: the status of
// the error, the message URL-encoded in `l5d-err` (cut to the header limit) and as a plain-text
// body (cut to the body limit), and `l5d-retryable: true` when nothing reached the upstream.

import { FailureFlags, ProxyError } from './errors.ts';

export const L5D_ERR = 'l5d-err';
export const L5D_RETRYABLE = 'l5d-retryable';

export interface ErrorLimits {
  /** linkerd's `maxHeadersKB` (8) in bytes. */
  readonly maxHeaderBytes: number;
  /** linkerd's `maxErrResponseKB` (5120) in bytes. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_ERROR_LIMITS: ErrorLimits = { maxHeaderBytes: 8 * 1024, maxBodyBytes: 5120 * 1024 };

export interface ErrorResponse {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const UNRESERVED = /[A-Za-z0-9.\-*_]/;

/**
 * Java's `URLEncoder.encode(s, ISO-8859-1)`: letters, digits and `.-*_` stay, a space is `+`,
 * every other character is `%XX` of its Latin-1 byte, and one outside Latin-1 is `%3F` (`?`).
 */
export function javaUrlEncode(s: string): string {
  let out = '';
  for (const ch of s) {
    if (UNRESERVED.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else {
      const c = ch.codePointAt(0)!;
      out += '%' + (c <= 0xff ? c : 0x3f).toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return out;
}

/** The response for a failed request. An error that is not a ProxyError is a 502 with its message. */
export function rescue(error: unknown, limits: ErrorLimits = DEFAULT_ERROR_LIMITS): ErrorResponse {
  const e = error instanceof Error ? error : new Error(String(error));
  const message = e.message === '' ? e.name : e.message;
  const status = e instanceof ProxyError ? e.status : 502;
  const encoded = javaUrlEncode(message);
  const headers: Record<string, string> = {
    [L5D_ERR]: encoded.length > limits.maxHeaderBytes ? encoded.slice(0, limits.maxHeaderBytes) : encoded,
    'content-type': 'text/plain',
  };
  if (e instanceof ProxyError && (e.flags & FailureFlags.Retryable) !== 0) headers[L5D_RETRYABLE] = 'true';
  return { status, headers, body: message.length > limits.maxBodyBytes ? message.slice(0, limits.maxBodyBytes) : message };
}

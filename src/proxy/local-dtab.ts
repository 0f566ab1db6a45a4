// The per-request dtab of spec/linkerd.md §6: the values of `l5d-ctx-dtab` (set by an upstream
// dtabd) followed by those of `l5d-dtab` (set by the caller), appended to the router's dtab so
// they take precedence, and passed on whole as `l5d-ctx-dtab`. `dtab-local` is not read.

import { Dtab, type DtabCache, DtabParseError } from '../dtab/index.ts';
import { DtabHeaderError } from './errors.ts';

export const L5D_DTAB = 'l5d-dtab';
export const L5D_CTX_DTAB = 'l5d-ctx-dtab';

function read(values: readonly string[] | undefined, cache: DtabCache, into: Dtab): Dtab {
  if (values === undefined) return into;
  let out = into;
  for (const v of values) {
    try {
      out = out.concat(cache.read(v));
    } catch (e) {
      if (e instanceof DtabParseError) throw new DtabHeaderError(e.message, { cause: e });
      throw e;
    }
  }
  return out;
}

/**
 * The local dtab of a request from its header values (each header may appear several times).
 * Parsed dtabs come from `cache`, so a repeated header costs a lookup.
 * @throws DtabHeaderError (400) with the parser's message
 */
export function localDtab(ctxValues: readonly string[] | undefined, userValues: readonly string[] | undefined, cache: DtabCache): Dtab {
  if (ctxValues === undefined && userValues === undefined) return Dtab.empty;
  return read(userValues, cache, read(ctxValues, cache, Dtab.empty));
}

/** The `l5d-ctx-dtab` value to send on, or undefined when the local dtab is empty (no header). */
export function ctxDtabHeader(local: Dtab): string | undefined {
  return local.isEmpty ? undefined : local.show;
}

// Path: an immutable sequence of non-empty byte-string elements (spec/dtab.md §1).
//
// Each element is kept as its canonical printed form (§4): the raw label when all its bytes are
// label characters, else `\xNN` per byte. That form maps one-to-one onto the bytes, so element
// equality is string equality, and `show` is a join. `show` is cached: it is a cache key and a
// metric name on the request path.

import { isRawElem, showElemBytes } from './chars.ts';

const EMPTY_ELEMS: readonly string[] = Object.freeze([]);

/** An immutable name path such as `/svc/web`. The empty path shows as `/`. */
export class Path {
  /** The empty path `/`. */
  static readonly empty: Path = new Path(EMPTY_ELEMS);

  /** Elements in canonical printed form; never empty strings. */
  readonly elems: readonly string[];
  #show: string | undefined;

  /** Builds a path from elements already in canonical form (see {@link Path.of} for raw text). */
  constructor(elems: readonly string[]) {
    this.elems = elems;
    this.#show = undefined;
  }

  /**
   * Builds a path from raw element strings (UTF-8 encoded, like Finagle's `Path.Utf8`).
   * @example Path.of('svc', 'web').show === '/svc/web'; Path.of('a b').show === '/\\x61\\x20\\x62'
   */
  static of(...labels: string[]): Path {
    return new Path(labels.map(elemFromText));
  }

  get size(): number {
    return this.elems.length;
  }

  get isEmpty(): boolean {
    return this.elems.length === 0;
  }

  /** The printed form, e.g. `/svc/web`, or `/` for the empty path. */
  get show(): string {
    let s = this.#show;
    if (s === undefined) {
      s = this.elems.length === 0 ? '/' : '/' + this.elems.join('/');
      this.#show = s;
    }
    return s;
  }

  toString(): string {
    return this.show;
  }

  /** This path followed by `other`'s elements. */
  concat(other: Path): Path {
    if (other.elems.length === 0) return this;
    if (this.elems.length === 0) return other;
    // A sized copy: Array.prototype.concat is several times slower on short arrays (lookup
    // appends a residual to every leaf, so this is on the request path).
    const a = this.elems;
    const b = other.elems;
    const out = new Array<string>(a.length + b.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i]!;
    for (let i = 0; i < b.length; i++) out[a.length + i] = b[i]!;
    return new Path(out);
  }

  /** The first `n` elements. */
  take(n: number): Path {
    return n >= this.elems.length ? this : new Path(this.elems.slice(0, n));
  }

  /** All but the first `n` elements. */
  drop(n: number): Path {
    if (n <= 0) return this;
    return n >= this.elems.length ? Path.empty : new Path(this.elems.slice(n));
  }

  /** Element-wise prefix test (`/s` is not a prefix of `/svc`). */
  startsWith(prefix: Path): boolean {
    const p = prefix.elems;
    if (p.length > this.elems.length) return false;
    for (let i = 0; i < p.length; i++) if (p[i] !== this.elems[i]) return false;
    return true;
  }

  equals(other: Path): boolean {
    if (this === other) return true;
    const a = this.elems;
    const b = other.elems;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** The bytes of element `i`, decoded from its printed form. */
  elemBytes(i: number): Uint8Array {
    return elemToBytes(this.elems[i]!);
  }

  /** Element `i` as text (UTF-8 decoded), e.g. a host name handed to a namer. */
  elemText(i: number): string {
    const e = this.elems[i]!;
    return e.charCodeAt(0) === 0x5c /* \ */ ? new TextDecoder().decode(elemToBytes(e)) : e;
  }
}

/** Canonical element for a raw text label (UTF-8 bytes). Throws on the empty string. */
export function elemFromText(label: string): string {
  if (label.length === 0) throw new RangeError('path elements must not be empty');
  return isRawElem(label) ? label : showElemBytes(new TextEncoder().encode(label));
}

/** Bytes of a canonical element. */
export function elemToBytes(elem: string): Uint8Array {
  if (elem.charCodeAt(0) !== 0x5c) {
    const out = new Uint8Array(elem.length);
    for (let i = 0; i < elem.length; i++) out[i] = elem.charCodeAt(i);
    return out;
  }
  const out = new Uint8Array(elem.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(elem.substr(i * 4 + 2, 2), 16);
  return out;
}

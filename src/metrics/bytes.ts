// Export text written as bytes: each metric's name is encoded once and kept, numbers are
// written digit by digit, and the output is a list of fixed-size buffers. A scrape of tens of
// thousands of metrics then builds no strings at all, so there is no large string to flatten
// and encode at the end (which cost more than the rest of the export).

const CHUNK = 64 * 1024;

/**
 * Chunks written out and given back ({@link releaseChunk}), for the next export: a scrape of a
 * large tree writes megabytes, and fresh buffers each time would bring on full collections.
 */
const POOL: ArrayBuffer[] = [];
const POOL_MAX = 128;

function newChunk(n: number): Buffer {
  const ab = n <= CHUNK ? POOL.pop() : undefined;
  return ab === undefined ? Buffer.allocUnsafeSlow(Math.max(CHUNK, n)) : Buffer.from(ab, 0, CHUNK);
}

/** Gives a chunk back once it has been written (its bytes are not read again). */
export function releaseChunk(chunk: Buffer): void {
  const ab = chunk.buffer;
  if (chunk.byteOffset === 0 && ab.byteLength === CHUNK && ab instanceof ArrayBuffer && POOL.length < POOL_MAX) POOL.push(ab);
}

/**
 * Where export text goes, in chunks of about 64 KiB: kept, or handed to `onChunk` as each
 * fills (so a response can be sent while the rest is written).
 */
export class ByteSink {
  readonly chunks: Buffer[] = [];
  readonly #onChunk: (chunk: Buffer) => void;
  #buf = newChunk(CHUNK);
  #pos = 0;

  constructor(onChunk?: (chunk: Buffer) => void) {
    this.#onChunk = onChunk ?? ((c) => this.chunks.push(c));
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    if (this.#pos > 0) this.#onChunk(this.#buf.subarray(0, this.#pos));
    this.#buf = newChunk(n);
    this.#pos = 0;
  }

  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  byte(c: number): void {
    this.#room(1);
    this.#buf[this.#pos++] = c;
  }

  #markBuf: Buffer | undefined;

  /** Where the next byte goes, to copy what is written from there ({@link since}). */
  mark(): number {
    this.#markBuf = this.#buf;
    return this.#pos;
  }

  /** A copy of the bytes written since mark `at`; undefined when a chunk was handed out in between. */
  since(at: number): Buffer | undefined {
    return this.#markBuf === this.#buf ? Buffer.from(this.#buf.subarray(at, this.#pos)) : undefined;
  }

  /** A number as JavaScript prints it (`String(v)`); not finite as 0. */
  num(v: number): void {
    // The longest a number prints is 24 characters (-1.2345678901234567e-100): room for 32.
    if (this.#pos + 32 > this.#buf.length) this.#room(32);
    const buf = this.#buf;
    if ((v | 0) === v && v >= 0) {
      // The common case, small integers (counts, gauges, bucket bounds), digit by digit from
      // the end, in 32-bit arithmetic.
      if (v < 10) {
        buf[this.#pos++] = 48 + v;
        return;
      }
      const len = v < 100 ? 2 : v < 1e3 ? 3 : v < 1e4 ? 4 : v < 1e5 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : v < 1e8 ? 8 : v < 1e9 ? 9 : 10;
      let p = this.#pos + len;
      this.#pos = p;
      let n = v;
      do {
        const q = (n / 10) | 0;
        buf[--p] = 48 + n - q * 10;
        n = q;
      } while (n > 0);
      return;
    }
    const s = Number.isFinite(v) ? String(v) : '0';
    for (let i = 0; i < s.length; i++) buf[this.#pos++] = s.charCodeAt(i);
  }

  /** Hands out the last chunk; the chunks kept, when no `onChunk` was given. */
  finish(): Buffer[] {
    if (this.#pos > 0) this.#onChunk(this.#buf.subarray(0, this.#pos));
    this.#pos = 0;
    return this.chunks;
  }
}

/** UTF-8 bytes of a string, for names encoded once. */
export function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

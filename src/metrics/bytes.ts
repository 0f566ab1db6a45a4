// Export text written as bytes: each metric's name is encoded once and kept, numbers are
// written digit by digit, and the output goes out in buffers of about 64 KiB. A scrape of tens
// of thousands of metrics then builds no strings at all, so there is no large string to flatten
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
 * Where export text goes: kept in chunks of about 64 KiB, or handed to `onChunk` as each fills
 * (so a response can be sent while the rest is written).
 *
 * With a `page`, the whole text is also kept in one buffer (grown as needed), and the chunks
 * handed out are copies of it: an export that keeps its last text (reprint.ts) copies the
 * bytes of unchanged metrics from there.
 */
export class ByteSink {
  readonly chunks: Buffer[] = [];
  readonly #onChunk: (chunk: Buffer) => void;
  readonly #paged: boolean;
  #buf: Buffer;
  #pos = 0;
  /** Where the writes may go before the slow path: the chunk's end, or the next chunk's in a page. */
  #limit: number;
  /** In a page: where the bytes not handed out yet start. */
  #sent = 0;

  constructor(onChunk?: (chunk: Buffer) => void, page?: Buffer) {
    this.#onChunk = onChunk ?? ((c) => this.chunks.push(c));
    this.#paged = page !== undefined;
    this.#buf = page ?? newChunk(CHUNK);
    if (this.#paged && this.#buf.length < CHUNK) this.#buf = Buffer.allocUnsafeSlow(CHUNK);
    this.#limit = Math.min(this.#buf.length, CHUNK);
  }

  /** Bytes written so far: with a page, where the next byte goes in it. */
  get position(): number {
    return this.#pos;
  }

  /** The page written (its first {@link position} bytes), once finished. */
  get page(): Buffer {
    return this.#buf;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#limit) return;
    if (!this.#paged) {
      if (this.#pos > 0) this.#onChunk(this.#buf.subarray(0, this.#pos));
      this.#buf = newChunk(n);
      this.#pos = 0;
      this.#limit = this.#buf.length;
      return;
    }
    this.#handOut(this.#pos);
    this.#grow(this.#pos + Math.max(n, CHUNK));
    this.#limit = this.#pos + Math.max(n, CHUNK);
  }

  /** A page at least `n` long, what was written kept. */
  #grow(n: number): void {
    if (n <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(n, this.#buf.length * 2));
    this.#buf.copy(bigger, 0, 0, this.#pos);
    this.#buf = bigger;
  }

  /** Hands out a copy of the page's bytes from the last handed out up to `to`. */
  #handOut(to: number): void {
    if (to <= this.#sent) return;
    const chunk = newChunk(to - this.#sent);
    this.#buf.copy(chunk, 0, this.#sent, to);
    this.#onChunk(chunk.subarray(0, to - this.#sent));
    this.#sent = to;
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

  /** Copies bytes `from`..`to` of `src` (a page only: a run of unchanged text). */
  copy(src: Buffer, from: number, to: number): void {
    const n = to - from;
    this.#grow(this.#pos + n + CHUNK);
    src.copy(this.#buf, this.#pos, from, to);
    this.#pos += n;
    while (this.#pos - this.#sent >= CHUNK) this.#handOut(this.#sent + CHUNK);
    this.#limit = this.#sent + CHUNK;
  }

  /** A number as JavaScript prints it (`String(v)`); not finite as 0. */
  num(v: number): void {
    // The longest a number prints is 24 characters (-1.2345678901234567e-100): room for 32.
    if (this.#pos + 32 > this.#limit) this.#room(32);
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

  /** Hands out the last bytes; the chunks kept, when no `onChunk` was given. */
  finish(): Buffer[] {
    if (this.#paged) this.#handOut(this.#pos);
    else {
      if (this.#pos > 0) this.#onChunk(this.#buf.subarray(0, this.#pos));
      this.#pos = 0;
    }
    return this.chunks;
  }
}

/** UTF-8 bytes of a string, for names encoded once. */
export function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

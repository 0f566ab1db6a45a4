// The chunked transfer coding (RFC 9112 §7.1), decoded incrementally: chunk sizes in hex with
// optional extensions, data, and a trailer section that is read and dropped. Malformed input
// is an error, never a guess.

const MAX_SIZE_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;

type State = 'size' | 'data' | 'data-crlf' | 'trailers' | 'done';

export class ChunkedDecoder {
  #state: State = 'size';
  /** Bytes of the current size line or trailer section kept between calls. */
  #line = '';
  #left = 0;
  #trailerBytes = 0;

  get done(): boolean {
    return this.#state === 'done';
  }

  /**
   * Decodes from `buf`, calling `onData` for each slice of payload. Returns how many bytes of
   * `buf` belong to the body (the rest, if any, follows the message).
   * @throws Error when the coding is malformed
   */
  decode(buf: Buffer, onData: (slice: Buffer) => void): number {
    let i = 0;
    const n = buf.length;
    while (i < n && this.#state !== 'done') {
      switch (this.#state) {
        case 'size': {
          const lf = buf.indexOf(10, i);
          const end = lf < 0 ? n : lf + 1;
          this.#line += buf.toString('latin1', i, end);
          i = end;
          if (this.#line.length > MAX_SIZE_LINE) throw new Error('chunk size line too long');
          if (lf < 0) break;
          const m = /^([0-9A-Fa-f]{1,12})(?:[ \t]*;[^\r\n]*)?\r\n$/.exec(this.#line);
          if (m === null) throw new Error('malformed chunk size line');
          this.#line = '';
          this.#left = parseInt(m[1]!, 16);
          this.#state = this.#left === 0 ? 'trailers' : 'data';
          break;
        }
        case 'data': {
          const take = Math.min(this.#left, n - i);
          onData(take === n && i === 0 ? buf : buf.subarray(i, i + take));
          i += take;
          this.#left -= take;
          if (this.#left === 0) this.#state = 'data-crlf';
          break;
        }
        case 'data-crlf': {
          this.#line += String.fromCharCode(buf[i]!);
          i++;
          if (this.#line.length === 2) {
            if (this.#line !== '\r\n') throw new Error('missing CRLF after chunk data');
            this.#line = '';
            this.#state = 'size';
          }
          break;
        }
        case 'trailers': {
          // Lines up to an empty one; their content is dropped.
          const lf = buf.indexOf(10, i);
          const end = lf < 0 ? n : lf + 1;
          this.#line += buf.toString('latin1', i, end);
          this.#trailerBytes += end - i;
          i = end;
          if (this.#trailerBytes > MAX_TRAILERS) throw new Error('trailer section too large');
          if (lf < 0) break;
          if (!this.#line.endsWith('\r\n')) throw new Error('bare LF in the trailer section');
          if (this.#line === '\r\n') this.#state = 'done';
          this.#line = '';
          break;
        }
      }
    }
    return i;
  }
}

/** The chunk header of `size` payload bytes. */
export function chunkHeader(size: number): string {
  return `${size.toString(16)}\r\n`;
}

export const LAST_CHUNK = '0\r\n\r\n';

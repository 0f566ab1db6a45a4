// A scrape's body written by the export thread straight to the scraper's socket, as HTTP/1.1
// chunks, so that the event loop neither receives nor writes it. The event loop has written
// the response's head, stopped reading the socket (an end of stream it read could close the
// descriptor, whose number could then be reused) and ends the response once told the body is
// out. Writes never block the thread: the socket is non-blocking, and a full send buffer is
// tried again on a timer, so a slow reader holds its own scrape and no other. One that takes
// nothing for the stall time is given up, and the event loop closes its connection.

import { fstatSync, writevSync } from 'node:fs';
import { releaseChunk } from './bytes.ts';

/** The socket, by descriptor and by inode (what tells the descriptor still names it). */
export interface SocketTarget {
  readonly fd: number;
  readonly ino: number;
}

export interface FdWriterEvents {
  /** The writer has let go of the descriptor: the whole body is out, or it failed with `error`. */
  readonly done: (error?: string) => void;
  /**
   * The writer is getting on: a chunk was given or bytes went out (at most once a second, or
   * twice per stall time if that is shorter). The thread's only word while the text is written
   * and while a slow reader takes it, which the event loop's timeout on progress counts.
   */
  readonly alive: () => void;
}

/**
 * Bytes at most in one write (one 64 KiB chunk and its framing). A kernel built without
 * preemption (as the one measured) runs a socket write to its end before a waking thread gets
 * the core, whatever the writer's scheduling policy, and on loopback that write also hands the
 * data to the reader. With scrapes every second, writes of 512 KiB added about 200 µs to the
 * proxy's p99 beyond what serving the same bytes costs; writes of 64 KiB about 70 µs
 * (bench/RESULTS.md).
 */
const WRITE_BYTES = 64 * 1024 + 64;

/** First wait on a full send buffer; doubled on each further wait, to at most {@link RETRY_MAX_MS}. */
const RETRY_FIRST_MS = 1;
const RETRY_MAX_MS = 25;

const ALIVE_MAX_MS = 1000;

const CRLF = Buffer.from('\r\n');

export class FdWriter {
  readonly #to: SocketTarget;
  readonly #stallMs: number;
  readonly #events: FdWriterEvents;
  /** Framed pieces not yet written; the first may be the rest of one written in part. */
  readonly #queue: Buffer[] = [];
  /** Every chunk given, back to the pool once the writer is done. */
  readonly #held: Buffer[] = [];
  #ended = false;
  #finished = false;
  #retry: NodeJS.Timeout | undefined;
  /** The descriptor was checked ({@link #same}) since the last wait. */
  #checked = false;
  #wait = RETRY_FIRST_MS;
  #lastProgress = Date.now();
  #lastAlive = Date.now();
  readonly #aliveMs: number;

  constructor(to: SocketTarget, stallMs: number, events: FdWriterEvents) {
    this.#to = to;
    this.#stallMs = stallMs;
    this.#events = events;
    this.#aliveMs = Math.min(ALIVE_MAX_MS, stallMs / 2);
  }

  /** A chunk of the body, in order; the writer owns it from here. */
  out(chunk: Buffer): void {
    if (this.#finished) return releaseChunk(chunk);
    this.#held.push(chunk);
    this.#alive();
    if (chunk.length === 0) return;
    this.#queue.push(Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, CRLF);
    this.#pump();
  }

  /** The body is whole: done is told once it is all written. */
  end(): void {
    if (this.#finished) return;
    this.#ended = true;
    this.#pump();
  }

  /** Gives up: nothing more is written, and done is told `error`. */
  abort(error: string): void {
    this.#finish(error);
  }

  #pump(): void {
    if (this.#finished || this.#retry !== undefined) return;
    if (this.#queue.length > 0 && !this.#checked) {
      if (!this.#same()) return this.#finish('the connection is gone');
      this.#checked = true;
    }
    while (this.#queue.length > 0) {
      let n: number;
      try {
        n = writevSync(this.#to.fd, this.#nextWrite());
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return this.#later();
        if (code === 'EINTR') continue;
        return this.#finish(`writing to the connection: ${code ?? (e as Error).message}`);
      }
      this.#consume(n);
    }
    if (this.#ended) this.#finish(undefined);
  }

  /**
   * Whether the descriptor still names the socket it was given as: checked before the first
   * write and again after each wait, a defence against its number having gone to another file.
   */
  #same(): boolean {
    try {
      return fstatSync(this.#to.fd).ino === this.#to.ino;
    } catch {
      return false;
    }
  }

  /** The pieces at the head of the queue, up to {@link WRITE_BYTES} (at least one). */
  #nextWrite(): Buffer[] {
    const q = this.#queue;
    let bytes = q[0]!.length;
    let i = 1;
    while (i < q.length && bytes + q[i]!.length <= WRITE_BYTES) bytes += q[i++]!.length;
    return i === q.length ? q : q.slice(0, i);
  }

  #consume(n: number): void {
    if (n > 0) {
      this.#lastProgress = Date.now();
      this.#wait = RETRY_FIRST_MS;
      this.#alive();
    }
    const q = this.#queue;
    while (n > 0) {
      const head = q[0]!;
      if (head.length <= n) {
        n -= head.length;
        q.shift();
      } else {
        q[0] = head.subarray(n);
        n = 0;
      }
    }
  }

  /** The send buffer is full: tried again after a wait, unless the reader has stalled. */
  #later(): void {
    const now = Date.now();
    if (now - this.#lastProgress >= this.#stallMs) return this.#finish(`the reader took nothing for ${this.#stallMs} ms`);
    this.#checked = false;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#pump();
    }, this.#wait);
    this.#wait = Math.min(this.#wait * 2, RETRY_MAX_MS);
  }

  #alive(): void {
    const now = Date.now();
    if (now - this.#lastAlive < this.#aliveMs) return;
    this.#lastAlive = now;
    this.#events.alive();
  }

  #finish(error: string | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#queue.length = 0;
    for (const c of this.#held.splice(0)) releaseChunk(c);
    this.#events.done(error);
  }
}

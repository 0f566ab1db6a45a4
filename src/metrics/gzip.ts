// Scrapes compressed for scrapers that ask (`Accept-Encoding: gzip`, as Prometheus does): the
// text is about eleven times smaller at level 1, which costs about 2 ms per MB of text. The
// export thread compresses in one go on its own thread; a tree written on the event loop is
// compressed on libuv's pool.

import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { releaseChunk } from './bytes.ts';

/** zlib's fastest level: the size is most of the gain, the CPU most of the cost. */
const LEVEL = 1;
/** Compressed text goes out in pieces of this size, like the chunks of uncompressed text. */
const PIECE = 64 * 1024;

const gzipAsync = promisify(gzip);

/** The chunks as one buffer, each given back to the pool. */
function joined(chunks: Buffer[]): Buffer {
  const all = Buffer.concat(chunks);
  for (const c of chunks) releaseChunk(c);
  return all;
}

/** `chunks` compressed, in pieces of their own memory (each can move to another thread alone). */
export function gzipPieces(chunks: Buffer[]): Buffer[] {
  const z = gzipSync(joined(chunks), { level: LEVEL });
  const out: Buffer[] = [];
  for (let i = 0; i < z.length; i += PIECE) {
    // Memory of its own (not Node's shared pool of small buffers), so it can be transferred.
    const piece = Buffer.allocUnsafeSlow(Math.min(PIECE, z.length - i));
    z.copy(piece, 0, i, i + piece.length);
    out.push(piece);
  }
  return out;
}

/** What `produce` writes, compressed off the event loop and handed to `out` in pieces. */
export async function gzipped(produce: (out: (chunk: Buffer) => void) => Promise<void>, out: (chunk: Buffer) => void): Promise<void> {
  const chunks: Buffer[] = [];
  await produce((c) => chunks.push(c));
  const z = await gzipAsync(joined(chunks), { level: LEVEL });
  for (let i = 0; i < z.length; i += PIECE) out(z.subarray(i, i + PIECE));
}

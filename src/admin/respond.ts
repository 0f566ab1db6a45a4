// How the admin server answers: JSON (compact, or sorted and indented), plain text, HTML, and
// reading a bounded request body.

import type { IncomingMessage, ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, value: unknown, pretty = false): void {
  const body = `${JSON.stringify(pretty ? sorted(value) : value, null, pretty ? 2 : undefined)}${pretty ? '\n' : ''}`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** Object keys sorted, all the way down (`?pretty=1`). */
function sorted(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(sorted);
  const out: Record<string, unknown> = Object.create(null);
  for (const k of Object.keys(v).sort()) out[k] = sorted((v as Record<string, unknown>)[k]);
  return out;
}

export function sendText(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

export function sendBody(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

/** Chunks of a streamed body being written at once (64 KiB each), waiting on a slow reader. */
const WRITES_AT_ONCE = 4;

/**
 * Chunks of a streamed body written in one turn of the event loop. A write to a reader that
 * keeps up completes at once, and its callback comes in the same turn: without a limit, a
 * scrape whose text is ready goes out whole before the event loop looks at anything else
 * (traced: one turn made sixteen 256 KiB writes, the whole 4 MB of metrics.json, over 5 ms,
 * and requests that came meanwhile waited; bench/RESULTS.md). Two chunks are one write.
 */
const WRITES_PER_TURN = 2;

/**
 * A body sent as `produce` makes it (chunked). At most {@link WRITES_AT_ONCE} chunks are being
 * written at a time, and at most {@link WRITES_PER_TURN} are begun in one turn of the event
 * loop, the rest on later turns, with the requests that came in between looked at first. Each
 * chunk is given back (`release`) once written. A caller that has gone away gets nothing more
 * written.
 */
export function sendStream(
  res: ServerResponse,
  status: number,
  type: string,
  produce: (out: (chunk: Buffer) => void) => Promise<void>,
  release: (chunk: Buffer) => void,
): Promise<void> {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  return streamBody(res, produce, release);
}

/** {@link sendStream}'s body, after a head already written. */
export async function streamBody(res: ServerResponse, produce: (out: (chunk: Buffer) => void) => Promise<void>, release: (chunk: Buffer) => void): Promise<void> {
  const queue: Buffer[] = [];
  let writing = 0;
  let produced = false;
  let ended = false;
  // Writes left to this turn; given again by the continuation, which runs after the poll phase.
  let budget = WRITES_PER_TURN;
  let continuing = false;
  const dropQueued = (): void => {
    for (const c of queue.splice(0)) release(c);
  };
  // A reset connection fails the writes under way before `res` says it is destroyed; writes
  // made after that are dropped without their callbacks, so none is made.
  let broken = false;
  const gone = (): boolean => broken || res.destroyed || res.socket?.destroyed === true;
  const continueNextTurn = (): void => {
    if (continuing) return;
    continuing = true;
    setImmediate(() => {
      continuing = false;
      budget = WRITES_PER_TURN;
      next();
    });
  };
  const next = (): void => {
    if (gone()) return dropQueued();
    while (writing < WRITES_AT_ONCE && queue.length > 0 && budget > 0) {
      const c = queue.shift()!;
      writing++;
      budget--;
      res.write(c, (err) => {
        writing--;
        release(c);
        if (err) broken = true;
        next();
      });
    }
    if (queue.length > 0 && budget === 0) continueNextTurn();
    if (produced && writing === 0 && queue.length === 0 && !ended) {
      ended = true;
      res.end();
    }
  };
  try {
    await produce((c) => {
      if (gone()) return release(c);
      queue.push(c);
      next();
    });
  } catch {
    // Part of the body is out: the client sees the connection cut, not a short document.
    res.destroy();
    dropQueued();
    return;
  }
  produced = true;
  next();
}

/** Text safe inside HTML. */
export function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A body refused for its size, already answered (413). */
export class BodyRefused extends Error {}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The request body as text, at most `max` bytes: past it, 413 is answered, the connection is
 * closed and the promise rejects with BodyRefused. Bytes that are not UTF-8 reject with an
 * error for the caller to answer.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const refuse = (): void => {
      sendText(res, 413, `Request body larger than ${max} bytes\n`, { connection: 'close' });
      req.destroy();
      reject(new BodyRefused());
    };
    if (declared > max) {
      refuse();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > max) {
        over = true;
        refuse();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (over) return;
      try {
        resolve(STRICT_UTF8.decode(Buffer.concat(chunks)));
      } catch {
        reject(new Error('the body is not UTF-8 text (JSON bodies are UTF-8)'));
      }
    });
    req.on('error', (e) => {
      if (!over) reject(e);
    });
  });
}

// Scrapes the export thread writes straight to a socket: byte for byte what the event loop
// writes, a reader that takes nothing holds up no other scrape, and a thread that fails or is
// closed while it writes has stopped before the caller is told (so the connection it wrote to
// can be closed without its descriptor's number going to another socket under it).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { ExportThread, type ExportThreadOptions, flatJson, type MetricsRegistry, prometheusText } from '../../src/metrics/index.ts';
import { clientTree } from '../support/metrics-tree.ts';
import { readAll, type SocketPair, socketPair, unchunk } from '../support/socket-pair.ts';

const pairs: SocketPair[] = [];
const modules = mkdtempSync(join(tmpdir(), 'dtabd-export-socket-'));
after(() => {
  for (const p of pairs) p.close();
  rmSync(modules, { recursive: true, force: true });
});

async function pair(): Promise<SocketPair> {
  const p = await socketPair();
  pairs.push(p);
  return p;
}

async function withThread(options: ExportThreadOptions, clients: number, body: (r: MetricsRegistry, ex: ExportThread) => Promise<void>): Promise<void> {
  const r = clientTree(clients);
  const ex = new ExportThread(r, options);
  try {
    await body(r, ex);
  } finally {
    await ex.close();
    r.close();
  }
}

/** What the thread writes to a fresh socket for `what`, and whether it did. */
async function writeTo(ex: ExportThread, what: Parameters<ExportThread['writeTo']>[0]): Promise<{ written: boolean; text: string }> {
  const p = await pair();
  const reading = readAll(p.client);
  const written = await ex.writeTo(what, p.to);
  p.server.destroy();
  return { written, text: unchunk(await reading).toString('utf8') };
}

/**
 * A stand-in thread that, asked to write to a socket, writes a byte to it, is then held 600 ms
 * in a call that stopping the thread must wait out, then writes a byte every 5 ms and never
 * says it is done.
 */
function endlessWriter(): URL {
  const file = join(modules, 'endless.mjs');
  writeFileSync(
    file,
    `import { parentPort } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';
parentPort.on('message', (m) => {
  if (m.type !== 'export' || m.to === undefined) return;
  const write = () => { try { writeSync(m.to.fd, 'x'); } catch {} };
  write();
  spawnSync('sleep', ['0.6']);
  setInterval(write, 5);
});
`,
  );
  return pathToFileURL(file);
}

const HELD_MS = 600;

/** Bytes the client receives from now on, counted. */
function counting(p: SocketPair): () => number {
  let n = 0;
  p.client.on('data', (c: Buffer) => (n += c.length));
  p.client.resume();
  return () => n;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the export thread writing to a socket', () => {
  test('writes the text the event loop writes, in JSON and Prometheus text, as HTTP/1.1 chunks', async () => {
    await withThread({ minMetrics: 0 }, 2000, async (r, ex) => {
      const json = await writeTo(ex, { format: 'json', under: undefined });
      assert.equal(json.written, true);
      assert.equal(json.text, flatJson(r));
      const scoped = await writeTo(ex, { format: 'json', under: 'rt/http/client/#/io.l5d.fs/s3' });
      assert.equal(scoped.text, flatJson(r, 'rt/http/client/#/io.l5d.fs/s3'));
      const prom = await writeTo(ex, { format: 'prometheus', prefix: 'l5d_' });
      assert.equal(prom.text, prometheusText(r, 'l5d_'));
      assert.equal(ex.writtenTo, 3);
      assert.equal(ex.written, 3);
    });
  });

  test('a tree too small for the thread is not written to the socket: the caller sends it', async () => {
    await withThread({}, 10, async (_r, ex) => {
      const p = await pair();
      assert.equal(await ex.writeTo({ format: 'json', under: undefined }, p.to), false);
      assert.equal(ex.writtenTo, 0);
    });
  });

  test('a scraper that reads nothing holds up no other scrape, and gets its text once it reads', async () => {
    await withThread({ minMetrics: 0 }, 12_000, async (r, ex) => {
      const stuck = await pair();
      let settled = false;
      const writing = ex.writeTo({ format: 'json', under: undefined }, stuck.to).finally(() => (settled = true));
      // Other scrapes, over the socket and as chunks, complete meanwhile.
      const other = await writeTo(ex, { format: 'json', under: 'rt/http/client/#/io.l5d.fs/s7' });
      assert.equal(other.text, flatJson(r, 'rt/http/client/#/io.l5d.fs/s7'));
      const chunks: Buffer[] = [];
      await ex.prometheus('', (c) => {
        chunks.push(Buffer.from(c));
        ex.release(c);
      });
      assert.equal(Buffer.concat(chunks).toString('utf8'), prometheusText(r));
      assert.equal(settled, false, 'the body is larger than the socket takes unread');
      const reading = readAll(stuck.client);
      assert.equal(await writing, true);
      stuck.server.destroy();
      assert.equal(unchunk(await reading).toString('utf8'), flatJson(r));
    });
  });

  test('an export to a socket that takes longer than the timeout, telling of progress, is not given up', async () => {
    // A stand-in thread that, asked to write to a socket, says it is alive every 50 ms for
    // 600 ms and then done (as the thread does while it writes the text and while a slow reader
    // takes it); the timeout is 200 ms.
    const file = join(modules, 'alive.mjs');
    writeFileSync(
      file,
      `import { parentPort } from 'node:worker_threads';
parentPort.on('message', (m) => {
  if (m.type !== 'export' || m.to === undefined) return;
  const alive = setInterval(() => parentPort.postMessage({ type: 'alive', id: m.id }), 50);
  setTimeout(() => {
    clearInterval(alive);
    parentPort.postMessage({ type: 'written', id: m.id });
    parentPort.postMessage({ type: 'done', id: m.id });
  }, 600);
});
`,
    );
    await withThread({ minMetrics: 0, workerFile: pathToFileURL(file), timeoutMs: 200 }, 20, async (_r, ex) => {
      const p = await pair();
      const started = performance.now();
      assert.equal(await ex.writeTo({ format: 'json', under: undefined }, p.to), true);
      assert.ok(performance.now() - started >= 590);
      assert.equal(ex.failure, undefined);
      assert.equal(ex.writtenTo, 1);
    });
  });

  test('a scraper that stops reading is given up after the stall time; the thread goes on', async () => {
    // Timeout 2 s, so the stall time is 1 s (the thread's first export takes in 12,000
    // clients' names at once, a step that must not be taken for the thread hanging).
    await withThread({ minMetrics: 0, timeoutMs: 2000 }, 12_000, async (r, ex) => {
      const p = await pair();
      await assert.rejects(ex.writeTo({ format: 'json', under: undefined }, p.to), /the reader took nothing for 1000 ms/);
      assert.equal(ex.failure, undefined);
      assert.ok(ex.threaded);
      assert.equal((await writeTo(ex, { format: 'prometheus', prefix: '' })).text, prometheusText(r));
    });
  });

  test('a thread that fails while it writes has stopped before the caller is told', async () => {
    const failures: string[] = [];
    let failedAt = 0;
    const onFailure = (e: Error): void => {
      failures.push(e.message);
      failedAt = performance.now();
    };
    await withThread({ minMetrics: 0, workerFile: endlessWriter(), timeoutMs: 300, onFailure }, 20, async (r, ex) => {
      const p = await pair();
      const received = counting(p);
      const t0 = performance.now();
      await assert.rejects(ex.writeTo({ format: 'json', under: undefined }, p.to), /made no progress on a scrape for 300 ms/);
      // Given up at 300 ms, while the thread was held: told only once it had stopped.
      assert.ok(failedAt - t0 < HELD_MS - 100, `given up at ${failedAt - t0} ms`);
      assert.ok(performance.now() - t0 >= HELD_MS - 50, `told at ${performance.now() - t0} ms, before the thread stopped`);
      assert.ok(received() > 0, 'the stand-in was writing');
      const at = received();
      await sleep(100);
      assert.equal(received(), at, 'nothing written after the caller was told');
      assert.equal(failures.length, 1);
      // Scrapes go on, on the event loop; the socket is not the thread's any more.
      assert.equal(await ex.writeTo({ format: 'json', under: undefined }, p.to), false);
      const chunks: Buffer[] = [];
      await ex.json(undefined, (c) => chunks.push(Buffer.from(c)));
      assert.equal(Buffer.concat(chunks).toString('utf8'), flatJson(r));
    });
  });

  test('closing the thread while it writes settles once it has stopped, and tells the caller', async () => {
    await withThread({ minMetrics: 0, workerFile: endlessWriter() }, 20, async (_r, ex) => {
      const p = await pair();
      const received = counting(p);
      const t0 = performance.now();
      const writing = ex.writeTo({ format: 'json', under: undefined }, p.to);
      await sleep(100);
      let toldAt = 0;
      const rejected = assert.rejects(writing, /was closed/).then(() => (toldAt = performance.now()));
      await ex.close();
      const closedAt = performance.now();
      await rejected;
      assert.ok(closedAt - t0 >= HELD_MS - 50, `close settled at ${closedAt - t0} ms, before the thread stopped`);
      assert.ok(toldAt - t0 >= HELD_MS - 50, `told at ${toldAt - t0} ms, before the thread stopped`);
      const at = received();
      await sleep(100);
      assert.equal(received(), at, 'nothing written after close settled');
    });
  });
});

// The export thread: a copy of the registry's names over the same shared memory, kept up to
// date by the changes the registry hands on, writes `/admin/metrics.json` and the Prometheus
// text here, off the event loop that routes requests. The 64 KiB chunks move to the main thread
// as they fill, a few to a message, and come back to be filled again once they have been sent;
// or, where the event loop hands over the scraper's socket, are written to it here (fd-writer.ts).

import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { releaseChunk } from './bytes.ts';
import { applyChanges } from './changes.ts';
import { FdWriter, type SocketTarget } from './fd-writer.ts';
import type { FromThread, ThreadSetup, ToThread } from './export-thread.ts';
import { HistogramWindow } from './histogram.ts';
import { writeFlatJson } from './json.ts';
import { MetricsRegistry } from './metrics.ts';
import { writePrometheus } from './prometheus.ts';

/**
 * This thread below everything that routes (Linux, where `/proc/thread-self` names the
 * thread). First nice 19; then, where util-linux's `chrt` runs, the SCHED_IDLE policy: the
 * thread gets a core only when nothing else of normal priority wants it, and a waking event
 * loop takes the core back at once. At nice 19 alone the kernel may let the thread finish
 * its time slice first (milliseconds, on a busy two-core machine), and a request waits that
 * long. Without `chrt` (a minimal container image) the thread stays at nice 19.
 */
function yieldToRouting(): void {
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return;
    setPriority(tid, 19);
  } catch {
    // Elsewhere the thread keeps the process's priority.
    return;
  }
  // Once, before the first export; a thread may always lower its own policy.
  spawnSync('chrt', ['--idle', '-p', '0', String(tid)], { stdio: 'ignore', timeout: 2000 });
}

yieldToRouting();

/** Chunks (64 KiB each) moved to the main thread in one message. */
const CHUNKS_PER_MESSAGE = 8;

const port = parentPort!;
const setup = workerData as ThreadSetup;
const window = new HistogramWindow(setup.windowMs, setup.slices, false, setup.clock);
const registry = new MetricsRegistry({ window, copy: true, maxMetrics: Number.POSITIVE_INFINITY });

function send(m: FromThread, transfer?: ArrayBuffer[]): void {
  port.postMessage(m, transfer);
}

port.on('message', (m: ToThread) => {
  switch (m.type) {
    case 'changes':
      applyChanges(registry, m.changes);
      return;
    case 'chunks':
      for (const b of m.buffers) releaseChunk(Buffer.from(b));
      return;
    case 'export': {
      const write = (out: (chunk: Buffer) => void): void => {
        if (m.format === 'json') writeFlatJson(registry, m.under, out);
        else writePrometheus(registry, m.prefix, out);
      };
      if (m.to !== undefined) return exportTo(m.id, m.to, m.stallMs ?? 10_000, write);
      // Chunks go out a few at a time, in fewer messages.
      let buffers: ArrayBuffer[] = [];
      let lengths: number[] = [];
      const flush = (): void => {
        if (buffers.length === 0) return;
        send({ type: 'chunks', id: m.id, buffers, lengths }, buffers);
        buffers = [];
        lengths = [];
      };
      const out = (chunk: Buffer): void => {
        const ab = chunk.buffer as ArrayBuffer;
        // A chunk is a whole buffer from its start: it moves to the main thread without a copy.
        if (chunk.byteOffset === 0) buffers.push(ab);
        else buffers.push(new Uint8Array(chunk).buffer);
        lengths.push(chunk.length);
        if (buffers.length >= CHUNKS_PER_MESSAGE) flush();
      };
      try {
        write(out);
        flush();
        send({ type: 'done', id: m.id });
      } catch (e) {
        send({ type: 'done', id: m.id, error: message(e) });
      }
      return;
    }
  }
});

/** An export written straight to the scraper's socket; done once the writer lets go of it. */
function exportTo(id: number, to: SocketTarget, stallMs: number, write: (out: (chunk: Buffer) => void) => void): void {
  const w = new FdWriter(to, stallMs, {
    done: (error) => send(error === undefined ? { type: 'done', id } : { type: 'done', id, error }),
    alive: () => send({ type: 'alive', id }),
  });
  try {
    write((c) => w.out(c));
    // The text is written: the event loop may give out memory freed since (the reader may
    // take a while yet).
    send({ type: 'written', id });
    w.end();
  } catch (e) {
    w.abort(message(e));
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

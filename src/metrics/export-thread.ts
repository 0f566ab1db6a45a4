// Scrapes of a large tree written off the event loop. The registry's numbers live in shared
// memory (store.ts); a worker thread (export-worker.ts) keeps a copy of the names, told of each
// metric that comes or goes, and writes the export text while the event loop goes on routing.
// The main thread only writes the values of the gauges that are functions of its objects (a
// client's gauges are set as they change, or are sums the thread adds up itself) and hands on
// the changes. The thread writes the text straight to the scraper's socket where the admin
// server hands it over (writeTo, fd-writer.ts), or else fills chunks the main thread sends. A
// small tree is written on the main thread, a slice at a time, as is every export when the
// thread cannot run: the thread costs memory (30-70 MB of RSS with 1,000 clients and services,
// bench/RESULTS.md), worth it only when a scrape would take the event loop for milliseconds.

import { Worker } from 'node:worker_threads';
import { releaseChunk } from './bytes.ts';
import { streamFlatJson, yieldToLoop } from './json.ts';
import type { Change } from './changes.ts';
import type { MetricsRegistry } from './metrics.ts';
import { streamPrometheus } from './prometheus.ts';
import type { SocketTarget } from './fd-writer.ts';

/** What the thread is started with. */
export interface ThreadSetup {
  readonly clock: SharedArrayBuffer;
  readonly windowMs: number;
  readonly slices: number;
}

export type ToThread =
  | { readonly type: 'changes'; readonly changes: Change[] }
  | { readonly type: 'chunks'; readonly buffers: ArrayBuffer[] }
  | ({ readonly type: 'export'; readonly id: number; readonly to?: SocketTarget; readonly stallMs?: number } & ExportOf);

/** What an export writes: the flat JSON under a scope, or the Prometheus text with a prefix. */
export type ExportOf = { readonly format: 'json'; readonly under: string | undefined } | { readonly format: 'prometheus'; readonly prefix: string };

export type FromThread =
  | { readonly type: 'chunks'; readonly id: number; readonly buffers: ArrayBuffer[]; readonly lengths: number[] }
  | { readonly type: 'alive'; readonly id: number }
  | { readonly type: 'written'; readonly id: number }
  | { readonly type: 'done'; readonly id: number; readonly error?: string };

/**
 * Gauges read between two turns of the event loop. Under load a slice of 250 took 0.30-0.45 ms
 * and now and then 1.8-3.4 ms (instrumented), and the requests that came meanwhile waited (bench/RESULTS.md).
 */
const GAUGE_SLICE = 50;

/** Scrapes within this long of the last read of the gauges print the values it wrote. */
const GAUGES_FRESH_MS = 100;

/** Metrics from which a scrape is written in the thread (a smaller tree is written in a few slices). */
export const THREAD_MIN_METRICS = 5000;

type Out = (chunk: Buffer) => void;

interface Pending {
  /** Where the chunks go; none when the thread writes to the socket itself. */
  readonly out: Out | undefined;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  /**
   * The store is held for this export (nothing freed is given out again while the thread may
   * read it): until the thread has written the text, which for an export to a socket comes
   * before the reader has taken it all.
   */
  held: boolean;
  /**
   * Fails the thread if it makes no progress for the timeout (a hung thread would hold every
   * scrape); each message from the thread starts every pending export's again.
   */
  readonly timer: NodeJS.Timeout;
}

/**
 * How long the thread may go without a message (chunks, a sign of life from an export it writes
 * to a socket, an export written or done) while exports wait
 * on it before it is given up for the event loop. Progress, not the whole export: under the
 * idle scheduling policy the thread gets only CPU nothing else wants, so on a saturated machine
 * a slow scrape is the thread waiting its turn, not hung, and moving it onto the event loop
 * would take the CPU from routing instead.
 */
const EXPORT_TIMEOUT_MS = 30_000;

/** Exports the thread may be writing to sockets at once; more are sent by the event loop. */
const MAX_DIRECT = 8;

export interface ExportThreadOptions {
  /** Metrics from which the thread writes the scrapes ({@link THREAD_MIN_METRICS} unless given; 0: always). */
  readonly minMetrics?: number;
  /** Told when the thread fails; exports go on, on the main thread. */
  readonly onFailure?: (error: Error) => void;
  /** The thread's module (export-worker next to this file unless given; tests give a broken one). */
  readonly workerFile?: URL;
  /** How long an export may go without progress in the thread before it is given up ({@link EXPORT_TIMEOUT_MS} unless given). */
  readonly timeoutMs?: number;
}

export class ExportThread {
  readonly #registry: MetricsRegistry;
  readonly #min: number;
  readonly #onFailure: ((error: Error) => void) | undefined;
  readonly #file: URL;
  readonly #timeoutMs: number;
  #worker: Worker | undefined;
  /** Why the thread stopped, once it has: exports are written on the main thread from then on. */
  failure: Error | undefined;
  /** Exports the thread has written whole (what tells a scrape went through it). */
  written = 0;
  /** Of those, the ones it wrote straight to the scraper's socket. */
  writtenTo = 0;
  #closed = false;
  #next = 1;
  readonly #pending = new Map<number, Pending>();
  /** Chunks sent, to go back to the thread together. */
  #returned: ArrayBuffer[] = [];
  #returning = false;
  /** Exports being written by the thread to their sockets. */
  #direct = 0;
  /** Settles once the thread has stopped (after it fails or is closed). */
  #exited: Promise<unknown> = Promise.resolve();

  constructor(registry: MetricsRegistry, options: ExportThreadOptions = {}) {
    this.#registry = registry;
    this.#min = options.minMetrics ?? THREAD_MIN_METRICS;
    this.#onFailure = options.onFailure;
    this.#timeoutMs = options.timeoutMs ?? EXPORT_TIMEOUT_MS;
    // The thread runs from the files this one runs from (TypeScript in a checkout, JavaScript built).
    this.#file = options.workerFile ?? new URL(import.meta.url.endsWith('.ts') ? './export-worker.ts' : './export-worker.js', import.meta.url);
  }

  /** Whether the thread writes the scrapes now. */
  get threaded(): boolean {
    return !this.#closed && this.failure === undefined && (this.#worker !== undefined || this.#registry.size >= this.#min);
  }

  /** `/admin/metrics.json`'s flat form, under `under`, as chunks given to `out`. */
  json(under: string | undefined, out: Out): Promise<void> {
    if (!this.threaded) return streamFlatJson(this.#registry, under, out);
    return this.#export({ type: 'export', id: this.#next++, format: 'json', under }, out);
  }

  /** The Prometheus text, each name prefixed by `prefix`, as chunks given to `out`. */
  prometheus(prefix: string, out: Out): Promise<void> {
    if (!this.threaded) return streamPrometheus(this.#registry, prefix, out);
    return this.#export({ type: 'export', id: this.#next++, format: 'prometheus', prefix }, out);
  }

  /**
   * The export written by the thread straight to a socket (Linux), as HTTP/1.1 chunks after a
   * head already written; the caller ends the response. Resolves true once the body is out and
   * the thread has let go of the descriptor; false, having written nothing, when the thread
   * does not write this one (the caller sends it the usual way). Rejects when the body was cut
   * short, only once the thread can no longer touch the descriptor: the caller then closes
   * the connection.
   */
  async writeTo(what: ExportOf, to: SocketTarget): Promise<boolean> {
    if (process.platform !== 'linux' || !this.threaded || this.#direct >= MAX_DIRECT) return false;
    this.#direct++;
    try {
      const written = await this.#run({ type: 'export', id: this.#next++, ...what, to, stallMs: Math.floor(this.#timeoutMs / 2) }, undefined);
      if (written) this.writtenTo++;
      return written;
    } finally {
      this.#direct--;
    }
  }

  /** Exports the thread is writing to sockets now (at most eight; more are sent the usual way). */
  get writingTo(): number {
    return this.#direct;
  }

  /** Gives a chunk back once it has been sent: to the thread that filled it, or to the pool. */
  release(chunk: Buffer): void {
    const ab = chunk.buffer;
    if (!(ab instanceof ArrayBuffer) || !THREAD_CHUNKS.has(ab)) return releaseChunk(chunk);
    THREAD_CHUNKS.delete(ab);
    if (this.#worker === undefined) return;
    this.#returned.push(ab);
    // Back in one message per turn of the event loop.
    if (this.#returning) return;
    this.#returning = true;
    setImmediate(() => {
      this.#returning = false;
      const buffers = this.#returned;
      this.#returned = [];
      if (this.#worker !== undefined && buffers.length > 0) this.#post({ type: 'chunks', buffers }, buffers);
    });
  }

  async #export(m: ToThread & { type: 'export' }, out: Out): Promise<void> {
    if (await this.#run(m, out)) return;
    return m.format === 'json' ? streamFlatJson(this.#registry, m.under, out) : streamPrometheus(this.#registry, m.prefix, out);
  }

  /** Has the thread write `m`: false when it cannot (it would not start, or failed before it was asked). */
  async #run(m: ToThread & { type: 'export' }, out: Out | undefined): Promise<boolean> {
    if ((this.#worker ?? this.#start()) === undefined) return false;
    await this.#registry.publishGauges(GAUGE_SLICE, yieldToLoop, GAUGES_FRESH_MS);
    // The thread may have failed meanwhile.
    if (this.#worker === undefined) return false;
    this.#registry.handOn();
    // Nothing freed from now is used again until the thread has written this one.
    this.#registry.store.hold();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.#fail(new Error(`the metrics export thread made no progress on a scrape for ${this.#timeoutMs} ms`)), this.#timeoutMs);
      timer.unref();
      this.#pending.set(m.id, { out, resolve, reject, held: true, timer });
      this.#post(m);
    });
    return true;
  }

  #post(m: ToThread, transfer?: ArrayBuffer[]): void {
    this.#worker?.postMessage(m, transfer);
  }

  #start(): Worker | undefined {
    const registry = this.#registry;
    const window = registry.window;
    let worker: Worker;
    try {
      const setup: ThreadSetup = { clock: window.memory, windowMs: window.sliceMs * window.slices, slices: window.slices };
      worker = new Worker(this.#file, { workerData: setup, name: 'dtabd metrics export' });
    } catch (e) {
      this.#fail(e instanceof Error ? e : new Error(String(e)));
      return undefined;
    }
    worker.unref();
    worker.on('message', (m: FromThread) => this.#message(m));
    worker.on('error', (e) => this.#fail(e));
    worker.on('exit', (code) => {
      if (!this.#closed) this.#fail(new Error(`the metrics export thread exited (code ${code})`));
    });
    this.#worker = worker;
    registry.follow((changes) => this.#post({ type: 'changes', changes }));
    return worker;
  }

  #message(m: FromThread): void {
    // The thread writes one text at a time (and meanwhile waits on slow readers of those it
    // writes to sockets): progress on any is progress on those queued behind it, whose timers
    // would otherwise run out while they wait their turn.
    for (const q of this.#pending.values()) q.timer.refresh();
    const p = this.#pending.get(m.id);
    if (p === undefined) return;
    if (m.type === 'alive') return;
    if (m.type === 'written') return this.#unhold(p);
    if (m.type === 'chunks') {
      const out = p.out;
      if (out === undefined) return;
      m.buffers.forEach((b, i) => {
        THREAD_CHUNKS.add(b);
        out(Buffer.from(b, 0, m.lengths[i]));
      });
      return;
    }
    this.#pending.delete(m.id);
    clearTimeout(p.timer);
    this.#unhold(p);
    if (m.error === undefined) {
      this.written++;
      p.resolve();
    }
    else p.reject(new Error(`metrics export: ${m.error}`));
  }

  #unhold(p: Pending): void {
    if (!p.held) return;
    p.held = false;
    this.#registry.store.unhold();
  }

  #fail(e: Error): void {
    if (this.failure !== undefined || this.#closed) return;
    this.failure = e;
    this.#stop(e);
    this.#onFailure?.(e);
  }

  #stop(e: Error): void {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#registry.unfollow();
    if (worker !== undefined) this.#exited = worker.terminate().catch(() => undefined);
    const exited = this.#exited;
    for (const p of this.#pending.values()) {
      this.#unhold(p);
      clearTimeout(p.timer);
      // A socket the thread writes to is closed only once the thread is gone.
      if (p.out === undefined) void exited.then(() => p.reject(e));
      else p.reject(e);
    }
    this.#pending.clear();
  }

  /** Stops the thread; settles once it has stopped (and so no longer touches any socket). */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#stop(new Error('the metrics export thread was closed'));
    }
    return this.#exited.then(() => undefined);
  }
}

/** Buffers that came from an export thread, to go back to it once sent. */
const THREAD_CHUNKS = new WeakSet<ArrayBuffer>();
